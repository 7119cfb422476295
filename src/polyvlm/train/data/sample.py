"""A training sample before tokenisation: ordered text segments, each with its images and a loss flag.

Every source format becomes this one shape, so tokenisation and label masking are written once:
a conversation is header / content / end segments per message (only assistant content and its
``<|im_end|>`` supervised), a caption is an image segment then the supervised caption, an interleaved
document is its sentences (supervised) with their images (never supervised) in front.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ImageSource = str | bytes
"""An image not yet decoded: a file path or the encoded bytes (decoded in a dataloader worker)."""

IMAGE_MARK = "<image>"


@dataclass
class Segment:
    """A piece of text with ``<image>`` marks for its images, and whether its tokens carry loss."""

    text: str
    supervised: bool
    images: list[ImageSource] = field(default_factory=list)


@dataclass
class TrainSample:
    """One example: an id that errors can name, its source, its segments in order, its Jagle category."""

    id: str
    source: str
    segments: list[Segment]
    category: str = ""
    """the category the record carries (``category`` key, docs/synth.md); "" when it carries none"""

    @property
    def num_images(self) -> int:
        """How many images the sample holds."""
        return sum(len(s.images) for s in self.segments)


def chat_segments(messages: list[tuple[str, str, list[ImageSource]]]) -> list[Segment]:
    """ChatML segments of (role, content with <image> marks, images) messages; assistant turns supervised."""
    out = []
    for role, content, images in messages:
        assistant = role == "assistant"
        out.append(Segment(f"<|im_start|>{role}\n", False))
        out.append(Segment(content, assistant, list(images)))
        out.append(Segment("<|im_end|>", assistant))  # the model must learn to stop
        out.append(Segment("\n", False))
    return out
