"""A small hand-written corpus on four topics, for the embedder checks and the tests."""

from __future__ import annotations

import numpy as np

# Repeated vocabulary, so that embedders that learn word vectors have something to learn from.
_TOPICS = {
    0: [
        "the cat sat on the warm mat",
        "a small cat chased the grey mouse",
        "my cat sleeps on the sofa all day",
        "the kitten and the cat play with a ball of wool",
        "cats purr when they are happy and warm",
        "the grey mouse ran from the hungry cat",
        "a cat and a kitten slept on the mat",
        "the hungry kitten drank warm milk",
        "our cat caught a mouse in the garden",
        "the cat purred on my lap",
    ],
    1: [
        "the striker scored a goal in the final minute",
        "the football team won the league match",
        "fans cheered as the team scored again",
        "the coach praised the striker after the match",
        "a late goal won the cup final for the team",
        "the goalkeeper saved a penalty in the match",
        "the league leaders lost their home match",
        "the team trained hard before the cup final",
        "the striker missed a penalty but the team won",
        "the match ended with a goal from the captain",
    ],
    2: [
        "the central bank raised interest rates again",
        "shares fell as the market reacted to the rates",
        "investors sold shares after the bank report",
        "the stock market rallied on strong profits",
        "the company reported higher profits and sales",
        "interest rates and inflation worry investors",
        "the bank cut rates to support the market",
        "profits at the company rose as sales grew",
        "the market fell when inflation rose",
        "investors bought shares in the bank",
    ],
    3: [
        "the new phone has a faster chip and a better screen",
        "the software update fixed a bug in the phone",
        "engineers designed a faster chip for laptops",
        "the laptop screen and battery were improved",
        "a bug in the software crashed the laptop",
        "the phone battery lasts longer after the update",
        "the company released new software for the chip",
        "the screen on the new laptop is brighter",
        "engineers fixed the battery bug with an update",
        "the faster chip makes the phone and laptop quicker",
    ],
}
CORPUS: list[str] = [doc for docs in _TOPICS.values() for doc in docs]
LABELS: np.ndarray = np.repeat(list(_TOPICS), [len(d) for d in _TOPICS.values()])
