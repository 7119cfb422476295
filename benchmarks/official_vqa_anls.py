"""The official scripts' way of scoring VQA accuracy and ANLS, reproduced for benchmarks/eval_scoring.py.

- VQA accuracy: GT-Vision-Lab/VQA `PythonEvaluationTools/vqaEvaluation/vqaEval.py` (BSD-2, the latest
  revision, "Fixed processing answers bug"), ported to Python 3 with its logic unchanged: per question,
  the human answers as dicts with an `answer_id`; newlines/tabs and trimming; `processPunctuation` (21
  marks, each tested on the input) and `processDigitArticle` (a `manualMap.setdefault` per word, articles,
  contractions) of every human answer and the result when the humans disagree; the leave-one-out
  `otherGTAns` lists built by dict comparison; `min(1, matches / 3)` summed and divided. The result is
  normalised first with the same two functions (a raw model answer is no prepared submission).
- ANLS: the definition of Biten et al. (ST-VQA / DocVQA) as the `anls` package (PyPI, 0.0.2) and the
  DocVQA evaluation compute it: lower-case and whitespace-collapsed strings, a pure-Python Levenshtein
  dynamic programme, `1 - NL` when `NL < 0.5` else 0, the best over the references.
"""

from __future__ import annotations

import re

from polyvlm.eval.scorers.vqa_contractions import CONTRACTIONS


class OfficialVQAEval:
    """vqaEval.py's VQAEval, reduced to its accuracy loop over (result, human answers) questions."""

    def __init__(self) -> None:
        self.contractions = dict(CONTRACTIONS)
        self.manualMap = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
                          "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}  # fmt: skip
        self.articles = ["a", "an", "the"]
        self.periodStrip = re.compile(r"(?!<=\d)(\.)(?!\d)")
        self.commaStrip = re.compile(r"(\d)(\,)(\d)")
        self.punct = [";", r"/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`",
                      ",", "?", "!"]  # fmt: skip

    def processPunctuation(self, inText: str) -> str:  # noqa: N802, N803 -- the official names
        outText = inText  # noqa: N806
        for p in self.punct:
            if (p + " " in inText or " " + p in inText) or (re.search(self.commaStrip, inText) is not None):
                outText = outText.replace(p, "")  # noqa: N806
            else:
                outText = outText.replace(p, " ")  # noqa: N806
        return self.periodStrip.sub("", outText, re.UNICODE)

    def processDigitArticle(self, inText: str) -> str:  # noqa: N802, N803
        outText = []  # noqa: N806
        for word in inText.lower().split():
            word = self.manualMap.setdefault(word, word)
            if word not in self.articles:
                outText.append(word)
        for wordId, word in enumerate(outText):  # noqa: N806
            if word in self.contractions:
                outText[wordId] = self.contractions[word]
        return " ".join(outText)

    def evaluate(self, questions: list[tuple[str, list[str]]]) -> list[float]:
        """The accuracy of each (result, human answers) question, in [0, 1]."""
        accQA = []  # noqa: N806
        for result, humans in questions:
            gts = {"answers": [{"answer": h, "answer_id": i + 1} for i, h in enumerate(humans)]}
            resAns = self.processDigitArticle(self.processPunctuation(result))  # noqa: N806 -- the submission
            for ansDic in gts["answers"]:  # noqa: N806
                ansDic["answer"] = ansDic["answer"].replace("\n", " ")
                ansDic["answer"] = ansDic["answer"].replace("\t", " ")
                ansDic["answer"] = ansDic["answer"].strip()
            resAns = resAns.replace("\n", " ")  # noqa: N806
            resAns = resAns.replace("\t", " ")  # noqa: N806
            resAns = resAns.strip()  # noqa: N806
            gtAcc = []  # noqa: N806
            gtAnswers = [ans["answer"] for ans in gts["answers"]]  # noqa: N806
            if len(set(gtAnswers)) > 1:
                for ansDic in gts["answers"]:  # noqa: N806
                    ansDic["answer"] = self.processPunctuation(ansDic["answer"])
                    ansDic["answer"] = self.processDigitArticle(ansDic["answer"])
                resAns = self.processPunctuation(resAns)  # noqa: N806
                resAns = self.processDigitArticle(resAns)  # noqa: N806
            for gtAnsDatum in gts["answers"]:  # noqa: N806
                otherGTAns = [item for item in gts["answers"] if item != gtAnsDatum]  # noqa: N806
                matchingAns = [item for item in otherGTAns if item["answer"] == resAns]  # noqa: N806
                acc = min(1, float(len(matchingAns)) / 3)
                gtAcc.append(acc)
            accQA.append(float(sum(gtAcc)) / len(gtAcc))
        return accQA


def levenshtein(s1: str, s2: str) -> int:
    """Edit distance by the row-by-row dynamic programme the `anls` package uses."""
    if len(s1) > len(s2):
        s1, s2 = s2, s1
    distances = list(range(len(s1) + 1))
    for i2, c2 in enumerate(s2):
        row = [i2 + 1]
        for i1, c1 in enumerate(s1):
            row.append(distances[i1] if c1 == c2 else 1 + min(distances[i1], distances[i1 + 1], row[-1]))
        distances = row
    return distances[-1]


def official_anls(prediction: str, references: list[str], threshold: float = 0.5) -> float:
    """ANLS of one answer: the best `1 - NL` over the references, 0 where `NL >= threshold`."""
    pred = " ".join(prediction.strip().lower().split())
    scores = []
    for reference in references:
        ref = " ".join(reference.strip().lower().split())
        length = max(len(pred.upper()), len(ref.upper()))
        nl = 0.0 if length == 0 else levenshtein(pred, ref) / length
        scores.append(1 - nl if nl < threshold else 0.0)
    return max(scores)
