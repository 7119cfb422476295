"""Images: fetching, safe decoding, filters, perceptual hashes, NSFW and image-text scores."""
