"""What the subcommands share: argparse types, the checks of models, devices and output files.

Nothing here imports torch or scikit-learn; the checks import what they need when called.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: Positions the packaged all-MiniLM-L6-v2 accepts (the demo's bound of --max-length).
MAX_LENGTH_BOUND = 512
#: The least --max-length of the packaged model: its tokenizer adds 2 special tokens, and one
#: token of text must fit (below, the library refuses it, after the demo's other columns ran).
MIN_MAX_LENGTH = 3
#: ``--cache-dir`` values that turn the disk cache off.
NO_CACHE = ("", "none")
#: What a command's run reports as one ``error:`` line (exit status 1) rather than a traceback:
#: the library's refusals, files, missing extras, torch's failures (out of memory) and a
#: training that diverged (``FloatingPointError``: its encoder would give NaN vectors).
RUN_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    OSError,
    ImportError,
    RuntimeError,
    FloatingPointError,
)
#: The embedder parameters that an option of the same name (``--max-length``) sets verbatim, as
#: the library's messages spell them (``max_length=64``, ``device='cuda:1'``): a word of its own,
#: never a part of a path (``runs/dim=64/model``), of code (``Embedder(dim=8)``) or of a quote,
#: and a whole value (not ``np.int64`` of ``np.int64(64)``, nor an empty ``''``).
_PARAMETER = re.compile(
    r"(?<!\S)(max_length|batch_size|device|dim|epochs|learning_rate|trust_remote_code)"
    r"=('[^'\s]+'|\"[^\"\s]+\"|[\w.:+-]+(?![\w.:+(\[-]))(?![/\\])"
)


#: The library's advice to set a parameter that no option of the commands sets, and its words
#: for a command's user: what to change in the texts (or the embedder), the parameter named as
#: Python's. The library's messages stay as they are for its Python users.
_PYTHON_ADVICE = (
    (  # TfidfBaseline's empty vocabulary (TfidfBaseline._empty_vocabulary_message)
        r"pass token_pattern=r'(?u)\b\w+\b' to keep one-character words, or analyzer='char' "
        "for character n-grams",
        "give texts with words of two or more letters or digits, or {other_than_tfidf} (in "
        r"Python, TfidfBaseline(token_pattern=r'(?u)\b\w+\b') keeps one-character words, "
        "analyzer='char' takes character n-grams)",
    ),
    (  # Word2VecEmbedder's empty vocabulary
        "lower min_count or give more text",
        "give more text, with words that occur more than once (in Python, a lower "
        "Word2VecEmbedder(min_count=...) keeps rarer words)",
    ),
    (  # Word2VecEmbedder's warning that it trains nothing
        "Give documents of several words, a lower min_count, or pretrained vectors=... with "
        "epochs=0.",
        "Give texts of several words (in Python, a lower Word2VecEmbedder(min_count=...), or "
        "pretrained vectors=... with epochs=0).",
    ),
    (  # Word2VecEmbedder's warning that it trains on too few tokens
        "Give more text, more epochs (epochs='auto' trains up to 40), pretrained vectors=..., "
        "or use TfidfBaseline.",
        "Give more text, or {tfidf_for_word2vec} (in Python, Word2VecEmbedder(epochs=...) "
        "trains longer, and vectors=... starts from pretrained word vectors).",
    ),
    (  # Word2VecEmbedder's warning on text without spaces between words
        "Pass tokenizer=... a word segmenter (jieba.lcut for Chinese, say), give text split "
        "into words by spaces, or use TfidfBaseline(analyzer='char', ngram_range=(1, 2)).",
        "Give text split into words by spaces (in Python, Word2VecEmbedder(tokenizer=...) takes "
        "a word segmenter, jieba.lcut for Chinese say, and TfidfBaseline(analyzer='char', "
        "ngram_range=(1, 2)) character n-grams).",
    ),
)


def _python_advice(message: str, options: Any = ()) -> str:
    """``message`` with the library's advice to set a parameter no option sets in a command's
    words (:data:`_PYTHON_ADVICE`), naming the option that picks embedders in the command whose
    ``options`` (option strings) are given: ``--embedder`` (``sweep``, ``embed``, ``bench``), or
    ``--only`` (``demo``, which refused the ``--embedder tfidf`` it advised)."""
    if "--embedder" in options or "--only" not in options:
        words = {
            "other_than_tfidf": "use another --embedder",
            "tfidf_for_word2vec": "use --embedder tfidf",
        }
    else:
        words = {
            "other_than_tfidf": "leave tfidf out (--only with the others)",
            "tfidf_for_word2vec": "leave word2vec out (--only tfidf matryoshka, say)",
        }
    for library, command in _PYTHON_ADVICE:
        for name, said in words.items():
            command = command.replace("{" + name + "}", said)
        message = message.replace(library, command)
    return message


def speed_against(seconds: float, other: float, other_name: str) -> str:
    """How fast something that took ``seconds`` encodes against ``other_name``, which took
    ``other``: ``"1.8x faster than 6 layers"``, ``"1.3x slower than ..."``, or ``"about as fast
    as ..."`` within 10% (a shallower model of a tiny width was said to encode "0.7x faster":
    timings on tiny models are mostly overhead).

    Examples
    --------
    >>> from skmrl.cli._common import speed_against
    >>> speed_against(1.0, 1.8, "6 layers"), speed_against(0.21, 0.15, "3 layers")
    ('1.8x faster than 6 layers', '1.4x slower than 3 layers')
    """
    ratio = other / seconds if seconds > 0 else math.inf
    if ratio >= 1.1:
        return f"{ratio:.1f}x faster than {other_name}"
    if ratio <= 1 / 1.1:
        return f"{1 / ratio:.1f}x slower than {other_name}"
    return f"about as fast as {other_name}"


def cli_spelling(message: str, parser: argparse.ArgumentParser | None) -> str:
    """``message`` (a library's warning or error) with each parameter that an option of
    ``parser``'s command sets spelled as that option: ``max_length=64`` as ``--max-length 64``.

    The library's checks stay the one place of each check; only their words change here. A
    parameter the command has no option for (``pooling='cls'``), or set to None, which no value
    of an option gives (``dim=None``: the option left out), is left as it is; where the library
    advises to pass such a parameter, the advice says what to change in the texts, and names
    the parameter as Python's (:data:`_PYTHON_ADVICE`).

    Examples
    --------
    >>> import argparse
    >>> from skmrl.cli._common import cli_spelling
    >>> parser = argparse.ArgumentParser()
    >>> _ = parser.add_argument("--max-length")
    >>> _ = parser.add_argument("--device")
    >>> cli_spelling("pass max_length=64 (pooling='cls', device='cuda:1')", parser)
    "pass --max-length 64 (pooling='cls', --device cuda:1)"
    >>> cli_spelling("no such file: '/runs/max_length=64/v.npy'", parser)  # a path: as it is
    "no such file: '/runs/max_length=64/v.npy'"
    >>> _ = parser.add_argument("--trust-remote-code", action="store_true")
    >>> cli_spelling("runs only with trust_remote_code=True, and", parser)  # a flag
    'runs only with --trust-remote-code, and'
    """
    if parser is None:
        return message
    options = parser._option_string_actions
    message = _python_advice(message, options)

    def spell(match: re.Match) -> str:
        option = "--" + match[1].replace("_", "-")
        spelt = option in options and match[2] != "None"  # no option value means None: as it is
        if spelt and options[option].nargs == 0:  # a flag: its True is the flag given
            return option if match[2] == "True" else match[0]
        return f"{option} {match[2].strip(chr(34) + chr(39))}" if spelt else match[0]

    return _PARAMETER.sub(spell, message)


def stdout_to_devnull() -> None:
    """Point stdout's descriptor at the null device: what it still holds goes nowhere (once its
    reader went away, so that nothing more fails: the "Note on SIGPIPE" of Python's signal
    module)."""
    import contextlib
    import os
    import sys

    with contextlib.suppress(OSError, ValueError, AttributeError):  # a stdout with no fileno
        fileno = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fileno)
        finally:
            os.close(devnull)  # stdout's descriptor is a copy of it: this one is not needed


def refuse_unused(given: Sequence[tuple[str, Any]], users: str) -> None:
    """Refuse the first option of ``given`` (``(option, value)``; None or False: not given),
    which only ``users`` use and none of the embedders run does: set, it would be ignored
    without a word. Raises :class:`~skmrl.cli._refused.Refused` (``"is for ... only"``).

    Examples
    --------
    >>> from skmrl.cli._common import refuse_unused
    >>> refuse_unused([("--max-length", None), ("--trust-remote-code", False)], "matryoshka")
    >>> refuse_unused([("--max-length", 64)], "--embedder matryoshka")
    Traceback (most recent call last):
    ...
    skmrl.cli._refused.Refused: is for --embedder matryoshka only
    """
    from skmrl.cli._refused import Refused

    for option, value in given:
        if value is not None and value is not False:
            raise Refused(option, f"is for {users} only")


def int_at_least(minimum: int, what: str) -> Callable[[str], int]:
    """An argparse ``type=``: an int ``>= minimum``, else an error that says why."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {number}")
        return number

    return parse


def positive_float(value: str) -> float:
    """An argparse ``type=``: a finite number ``> 0``."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value!r}")
    return number


def max_length(value: str) -> int:
    """``--max-length`` of the packaged model (the demo's): an int in [3, 512]."""
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not MIN_MAX_LENGTH <= number <= MAX_LENGTH_BOUND:
        raise argparse.ArgumentTypeError(
            f"expected an int in [{MIN_MAX_LENGTH}, {MAX_LENGTH_BOUND}] (the tokens the "
            f"packaged MiniLM accepts), got {value!r}"
        )
    return number


def cache_folder(value: str | None) -> Path | None:
    """The folder ``--cache-dir`` names: None for 'none' or '', the default when not given."""
    if value is not None and value.strip().lower() in NO_CACHE:
        return None
    if value is None:
        from skmrl.cache import default_cache_dir

        return default_cache_dir()
    return Path(value).expanduser()


def device(value: str) -> str:
    """An argparse ``type=``: the form of ``--device`` (no torch import, no hardware probing)."""
    from skmrl._torch.device import check_device_spec

    try:
        return check_device_spec(value)
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def device_problem(spec: str) -> str | None:
    """Why device ``spec`` cannot be used on this machine (imports torch), or None when it can."""
    from skmrl._torch.device import resolve_device

    try:
        resolve_device(spec)
    except ValueError as exc:
        return str(exc)
    return None


#: The embedders the commands know by name: (canonical name, the spellings it accepts too).
EMBEDDER_NAMES = {
    "tfidf": ("TfidfBaseline",),
    "word2vec": ("Word2VecEmbedder", "w2v"),
    "matryoshka": ("MatryoshkaEmbedder", "minilm"),
    "adaptor": ("MatryoshkaEmbedder+adaptor", "matryoshka+adaptor", "matryoshka-adaptor"),
}


#: The sizes (``max_dim``) the commands build tfidf and word2vec at, unless a larger dim is asked.
TFIDF_MAX_DIM = 256
W2V_MAX_DIM = 128


def built_size(embedder: str, largest: int | None = None) -> int:
    """The ``max_dim`` that ``skmrl embed``, ``sweep`` and ``demo`` build ``embedder``
    (``"tfidf"`` or ``"word2vec"``) at: its default size, or ``largest`` (the largest dim
    asked for) where that is larger.

    One size for every command, so that the vectors ``skmrl embed --dim`` writes are those
    ``skmrl sweep`` scored. Built at the largest dim asked, a dim's score depended on the other
    dims (``--dims 8 16 32`` against ``8 16 32 64``: 0.940 against 0.930 at 32): the last
    components of LSA's randomized SVD are approximate, and word2vec at another size is another
    model.

    Examples
    --------
    >>> from skmrl.cli._common import built_size
    >>> built_size("tfidf"), built_size("tfidf", 32), built_size("word2vec", 300)
    (256, 256, 300)
    """
    default = TFIDF_MAX_DIM if embedder == "tfidf" else W2V_MAX_DIM
    return max(largest or 0, default)


def embedder_choice(*allowed: str) -> Callable[[str], str]:
    """An argparse ``type=``: one of ``allowed`` (canonical names of :data:`EMBEDDER_NAMES`),
    by its name or another spelling of it, in any case."""

    def parse(value: str) -> str:
        for name in allowed:
            if value.strip().lower() in (name, *(a.lower() for a in EMBEDDER_NAMES[name])):
                return name
        raise argparse.ArgumentTypeError(
            f"unknown embedder {value!r}; choose from {', '.join(allowed)}"
        )

    return parse


def model_config(model: str) -> dict:
    """The encoder's ``config.json`` of ``--model`` (found, not loaded: in its folder, or in the
    local hub cache; ``{}`` where there is none to read), or ValueError.

    The error says why the model cannot be found (no such folder, not a model folder, not in the
    local cache, no weights file). A hub id's config was not read (``{}``): its --max-length was
    checked only when the model loaded, after sweep had scored its other embedders.
    """
    import json

    from skmrl._st_layout import encoder_subfolder
    from skmrl.models import ModelNotFoundError, model_file, resolve_model

    try:
        source = resolve_model(model)
    except (ModelNotFoundError, TypeError) as exc:
        raise ValueError(str(exc)) from None
    prefix = f"{encoder_subfolder(source)}/".lstrip("/")  # where the encoder's files are
    _check_weights_file(source, prefix)
    path = model_file(source, prefix + "config.json")
    try:
        config = json.loads(path.read_text(encoding="utf-8")) if path is not None else {}
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def _check_weights_file(source: str, prefix: str) -> None:
    """A ``ValueError`` for a resolved model without a weights file: a folder, or a hub id whose
    local cache holds it only in part (an interrupted download; where downloads are allowed,
    transformers fetches what is missing). Found only when the model loaded, it came after
    sweep had scored its other embedders, whose curves were then lost with the run. ``prefix``:
    the encoder's folder in the model (``"0_Transformer/"``, or ``""``)."""
    from skmrl._model_errors import _WEIGHTS_FILES
    from skmrl.models import model_file, network_allowed

    folder = Path(source).is_dir()
    if not folder and network_allowed():
        return
    if any(model_file(source, prefix + name) is not None for name in _WEIGHTS_FILES):
        return
    where = (
        f"the model folder {Path(source) / prefix}"
        if folder
        else f"the local Hugging Face cache of {source!r} (an interrupted download?)"
    )
    raise ValueError(
        f"{where.rstrip('/')} holds no weights file (model.safetensors or pytorch_model.bin, "
        "or their shards' index .json); a model folder holds config.json, the weights and the "
        "tokenizer files, as save_pretrained writes them"
        + ("" if folder else "; set HF_HUB_OFFLINE=0 to let transformers download them")
    )


def custom_code_problem(
    model: str, trust_remote_code: bool, parser: argparse.ArgumentParser | None = None
) -> str | None:
    """The library's refusal of a ``--model`` that transformers loads only by running the
    model's own code, when ``--trust-remote-code`` is not given (in the command's words), else
    ``None``; ``None`` too for a model that cannot be found (:func:`model_config` says why).

    The commands check it with their options, before any work: the refusal came after the
    texts were read, or after ``sweep`` had trained and scored its other embedders. The rule
    and the words are the library's (:func:`skmrl._custom_code.custom_code_refusal`): a model
    whose ``model_type`` transformers knows is not refused (it loads with transformers' classes).
    """
    from skmrl._custom_code import custom_code_refusal
    from skmrl.models import ModelNotFoundError

    try:
        refusal = custom_code_refusal(model, trust_remote_code)
    except (ModelNotFoundError, TypeError, ValueError):
        return None
    return None if refusal is None else cli_spelling(str(refusal), parser)


def saved_settings(model: str, max_length: int | None = None) -> dict[str, Any]:
    """The settings to build ``model``'s embedder with: those a saved skmrl folder's vectors
    were made with (``pooling`` and ``max_length`` of its ``skmrl.json``; the command has no
    option for ``pooling``, and the library, whose parameters are stored as given, only warns
    when they differ), or a sentence-transformers model's pooling, ``--max-length``
    (``max_length``) first when given. ``{}`` for any other model, or one that cannot be found
    (the checks say why), without ``--max-length``.

    Examples
    --------
    >>> from skmrl.cli._common import saved_settings
    >>> saved_settings("no/such/folder"), saved_settings("no/such/folder", 64)
    ({}, {'max_length': 64})
    """
    settings = _saved_settings(model)
    if max_length is not None:
        settings["max_length"] = max_length
    return settings


#: ``MatryoshkaEmbedder``'s default ``max_length``, which the pre-checks need without importing
#: it (it imports scikit-learn); tests/test_cli.py checks that the two agree.
EMBEDDER_MAX_LENGTH = 256


def encoder_max_length(model: str, max_length: int | None = None) -> int:
    """The truncation ``model``'s encoder runs with: ``--max-length`` (``max_length``), else a
    saved skmrl folder's (:func:`saved_settings`), else ``MatryoshkaEmbedder``'s default.

    Examples
    --------
    >>> from skmrl.cli._common import encoder_max_length
    >>> encoder_max_length("no/such/folder"), encoder_max_length("no/such/folder", 64)
    (256, 64)
    """
    return int(saved_settings(model, max_length).get("max_length", EMBEDDER_MAX_LENGTH))


def _saved_settings(model: str) -> dict[str, Any]:
    """``pooling`` and ``max_length`` of ``model``'s ``skmrl.json``, if it is a saved model;
    else the ``pooling`` of a sentence-transformers model ("mean" or "cls"), which the commands
    have no option for: a BGE model (CLS pooling) was embedded with mean pooling, under a
    warning that advised the library's ``pooling="cls"``."""
    from skmrl._saved_model import saved_config
    from skmrl._st_layout import sentence_transformers_layout
    from skmrl.models import ModelNotFoundError, resolve_model

    try:
        source = Path(resolve_model(model))
    except (ModelNotFoundError, TypeError):
        return {}
    config = saved_config(source)
    if isinstance(config, dict):
        return {k: config[k] for k in ("pooling", "max_length") if config.get(k) is not None}
    layout = sentence_transformers_layout(str(source))
    if layout is not None and layout.pooling in ("mean", "cls"):
        return {"pooling": layout.pooling}
    return {}


#: The ``model_type`` of transformers' models whose position ids start after the padding index
#: (``pad_token_id + 1``), so that ``max_position_embeddings`` less that many are the tokens taken.
_PADDED_POSITIONS = frozenset(
    {
        "roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "mpnet", "data2vec-text",
        "roberta-prelayernorm", "longformer", "markuplm", "xmod", "luke",
    }
)  # fmt: skip


def model_limit_problems(
    config: dict, max_length: int | None, dim: int | None = None
) -> list[tuple[str, str]]:
    """(argument, message) for a ``--max-length`` or ``--dim`` beyond what the model has.

    ``config`` is the model's ``config.json``, read without loading the model. Its
    ``max_position_embeddings`` bounds ``--max-length``, less the positions before the first
    token in the RoBERTa family (514 positions, 512 tokens), as the library's check of the
    loaded model (:func:`skmrl._model_checks.max_positions`) counts them.

    Examples
    --------
    >>> from skmrl.cli._common import model_limit_problems
    >>> model_limit_problems({"max_position_embeddings": 66, "hidden_size": 32}, 67, dim=16)
    [('--max-length', "expected at most the model's 66 tokens (its max_position_embeddings), \
got 67")]
    >>> config = {"model_type": "roberta", "pad_token_id": 1, "max_position_embeddings": 514}
    >>> model_limit_problems(config, 514)
    [('--max-length', "expected at most the model's 512 tokens (its 514 max_position_embeddings \
less the 2 before the first token, as in RoBERTa), got 514")]
    """
    from skmrl.models import _config_sizes  # the library's reading of the sizes

    problems = []
    positions = config.get("max_position_embeddings")
    if isinstance(positions, int) and not isinstance(positions, bool):
        # The RoBERTa family's positions start after the padding index: "at most 514" was
        # said, and --max-length 514 then refused ("expected an int in [3, 512]").
        pad = config.get("pad_token_id")
        offset = 0
        if config.get("model_type") in _PADDED_POSITIONS and isinstance(pad, int) and pad >= 0:
            offset = pad + 1
        if max_length is not None and max_length > positions - offset:
            said = (
                f"its {positions} max_position_embeddings less the {offset} before the first "
                "token, as in RoBERTa"
                if offset
                else "its max_position_embeddings"
            )
            problems.append(
                (
                    "--max-length",
                    f"expected at most the model's {positions - offset} tokens ({said}), "
                    f"got {max_length}",
                )
            )
    hidden = _config_sizes(config)[0]
    if hidden is None and "hidden_size" in config:
        problems.append(("--model", _odd_hidden_size(config["hidden_size"])))
    if hidden is not None and dim is not None and dim > hidden:
        problems.append(("--dim", f"{dim} is more than the model's {hidden} dims"))
    return problems


#: The ``--max-length`` at or under which the pre-checks read the model's tokenizer for the
#: special tokens it adds (two for BERT and RoBERTa tokenizers, one for T5's): reading it
#: imports transformers (about 2 s), which a usual length has no need of.
_FEW_TOKENS = 8


def max_length_room_problem(model: str, max_length: int | None, trust: bool) -> str | None:
    """Why ``--max-length`` leaves no token for the text, besides the special tokens that
    ``model``'s tokenizer adds (the library's check, made only after the model's load: exit
    status 1 after seconds, where the other options are refused at once), else None.

    Only a ``max_length`` of at most :data:`_FEW_TOKENS` reads the tokenizer, from local files;
    one that cannot be read here is left to the load, which says why.
    """
    if max_length is None or max_length > _FEW_TOKENS:
        return None
    from skmrl._st_layout import encoder_subfolder
    from skmrl.models import quiet_transformers, resolve_model

    try:
        from transformers import AutoTokenizer

        source = resolve_model(model)
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(
                source,
                use_fast=True,
                local_files_only=True,
                trust_remote_code=trust,
                subfolder=encoder_subfolder(source),
            )
        specials = int(tokenizer.num_special_tokens_to_add())
    except Exception:  # the load reports what is wrong with the model
        return None
    if max_length > specials:
        return None
    return (
        f"{max_length} leaves no room for text: the model's tokenizer adds {specials} special "
        f"tokens to every text, so every text would get the same vector (or not be truncated "
        f"at all); expected an int >= {specials + 1}"
    )


def refuse_model_limits(
    config: dict, model: str, max_length: int | None, trust: bool, dim: int | None = None
) -> None:
    """:class:`~skmrl.cli._refused.Refused` for a ``--max-length`` or ``--dim`` the model cannot
    take (:func:`model_limit_problems`) or a ``--max-length`` that leaves no token for the text
    (:func:`max_length_room_problem`): the model checks of ``embed``, ``sweep`` and ``finetune``."""
    from skmrl.cli._refused import Refused

    for argument, message in model_limit_problems(config, max_length, dim):
        raise Refused(argument, message)
    problem = max_length_room_problem(model, max_length, trust)
    if problem:
        raise Refused("--max-length", problem)


def _odd_hidden_size(value: object) -> str:
    """Why a config's ``hidden_size`` that is not a positive whole number cannot be loaded
    (0 ended in a ZeroDivisionError deep in transformers, 384.0 in a validation traceback)."""
    return (
        f"its config.json gives hidden_size={value!r}, not a positive whole number: the model "
        "cannot be loaded; correct its config.json"
    )


def _not_a_folder(folder: Path) -> str | None:
    """Why ``folder``, which is not a folder here, cannot hold a file where a part of it exists:
    it, or the first of its parents that exists, is a file (or a device); None where the
    folder is missing. ``afile/e.npy`` said "folder 'afile' does not exist" of a file ``afile``.
    """
    above = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if above is None or above.is_dir():
        return None
    return f"{str(above)!r} is {'a file, not a folder' if above.is_file() else 'not a folder'}"


def _writable_file_problem(target: Path) -> str | None:
    """Why file ``target`` cannot be written (its folder must exist), or None (nothing written).

    A symbolic link is written through (:func:`write_whole`), so what it points at is checked:
    a link into a missing folder failed after the run, naming the temporary file, and a link to
    a device (``/dev/full``) or a pipe had it replaced by a regular file, as root.
    """
    import os

    folder = target.parent
    if not folder.is_dir():
        return _not_a_folder(folder) or f"folder {str(folder)!r} does not exist"
    named = str(target)
    if target.is_symlink():
        try:
            target = target.resolve()
        except (OSError, RuntimeError):  # a loop of links: RuntimeError before Python 3.13
            return f"{named!r} is a link that loops back on itself"
        folder = target.parent
        if not folder.is_dir():
            why = _not_a_folder(folder)
            return f"{named!r} is a link to {str(target)!r}, " + (
                f"but {why}" if why else "whose folder does not exist"
            )
    if target.is_dir():
        return f"{named!r} is a folder"
    if target.exists():
        if not target.is_file():
            return f"{named!r} is not a regular file (a device, a pipe or a socket)"
        return None if os.access(target, os.W_OK) else f"{named!r} is not writable"
    from skmrl._folders import folder_write_problem

    return folder_write_problem(folder, repr(str(folder)))


def output_file_problem(path: str, suffixes: Sequence[str], what: str) -> str | None:
    """Why the output file ``path`` cannot be written, or None when it can (nothing is written).

    Its extension must be one of ``suffixes`` (``(".npy", ".parquet")``), named in the message as
    ``what`` (``"a .npy or .parquet file"``); its folder must exist and be writable.

    Examples
    --------
    >>> from skmrl.cli._common import output_file_problem
    >>> output_file_problem("vectors.txt", (".npy", ".parquet"), "a .npy or .parquet file")
    "expected a .npy or .parquet file, got 'vectors.txt'"
    >>> output_file_problem("no-such-folder/v.npy", (".npy",), "a .npy file")
    "folder 'no-such-folder' does not exist"
    """
    target = Path(path).expanduser()
    if target.suffix.lower() not in suffixes:
        return f"expected {what}, got {path!r}"
    return _writable_file_problem(target)


def write_whole(path: Path, write: Callable[[Any], Any]) -> None:
    """``write(f)`` into a temporary file beside ``path`` (``f`` opened in binary), then move
    it there: an interrupt or a full disk leaves the earlier file, or none, never a part of the
    new one (a results CSV cut short read as a shorter table, with no error).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmrl.cli._common import write_whole
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_whole(Path(folder) / "out.txt", lambda f: f.write(b"done"))
    ...     (Path(folder) / "out.txt").read_text(), len(list(Path(folder).iterdir()))
    ('done', 1)
    """
    import os
    import tempfile

    from skmrl._folders import readable_as_other_files

    # A symbolic link is written through, as open() would: os.replace would put the file in
    # the link's place and leave its target as it was.
    path = path.resolve() if path.is_symlink() else path
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        with open(temp, "wb") as f:
            write(f)
        readable_as_other_files([Path(temp)])  # mkstemp's file is private; the output need not be
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


#: The backend setting that :func:`agg_pyplot` found before it chose Agg, for
#: :func:`restore_matplotlib_backend` (``skmrl.cli.main`` called from Python, in a notebook).
_BACKEND_BEFORE: list[Any] = []


def agg_pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend: the commands only write files.

    Where pyplot is imported already (``skmrl.cli.main`` called from the user's Python), its
    backend is left as it is: savefig writes files with any, and switching closed the user's
    open figures and left the notebook's plots on Agg (not shown) for the rest of the session.
    """
    import sys

    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        if not _BACKEND_BEFORE:
            _BACKEND_BEFORE.append(dict.__getitem__(matplotlib.rcParams, "backend"))  # as set
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def restore_matplotlib_backend() -> None:
    """Give back the backend setting :func:`agg_pyplot` found (matplotlib's automatic choice, or
    ``$MPLBACKEND``), at the end of a command: pyplot then chooses as if skmrl had not run."""
    if _BACKEND_BEFORE:
        import matplotlib

        # a backend that cannot load here ($MPLBACKEND=TkAgg with no display: ImportError;
        # WebAgg without tornado: RuntimeError) is left unset, not raised from the command's
        # end after its work was done
        try:
            matplotlib.use(_BACKEND_BEFORE.pop())
        except Exception:
            pass


def plot_problem(path: str) -> str | None:
    """Why a plot cannot be written to ``path`` (format, folder, matplotlib), or None.

    Nothing is written; matplotlib is imported (not pyplot) to know its image formats.
    """
    from skmrl._extras import MATPLOTLIB_MIN, PLOT_INSTALL, missing_requirement

    # an old matplotlib too: it refused the figures' legend placement once the run was over
    needs = missing_requirement("matplotlib", MATPLOTLIB_MIN)
    if needs is not None:
        return f"needs {needs}: {PLOT_INSTALL}"
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except Exception as exc:  # a broken install: say so now rather than after the run
        return f"matplotlib cannot be imported: {exc}"
    target = Path(path).expanduser()
    suffix = target.suffix.lower().lstrip(".")
    formats = FigureCanvasBase.get_supported_filetypes()
    if not suffix:
        return f"name an image file with its format, e.g. {path}.png"
    if suffix not in formats:
        return f"unknown image format {suffix!r}; use one of {', '.join(sorted(formats))}"
    return _writable_file_problem(target)


def cache_problem(value: str | None) -> str | None:
    """Why the ``--cache-dir`` folder cannot be created and written (it is created), or None."""
    from skmrl._folders import folder_write_problem

    folder = cache_folder(value)
    problem = None if folder is None else folder_write_problem(folder, repr(str(folder)))
    return None if problem is None else f"{problem} (or pass --cache-dir none)"


# -- parser pieces shared by the commands ----------------------------------------------------------
def add_command(
    sub: Any, name: str, help: str, description: str, epilog: str
) -> argparse.ArgumentParser:
    """A subcommand's parser: its one-line ``help``, its description (wrapped) and examples."""
    import textwrap

    return sub.add_parser(
        name,
        help=help,
        description=textwrap.fill(description, 79),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_csv_data(parser: argparse.ArgumentParser) -> Any:
    """The ``DATA`` CSV file and its required ``--text-col``; returns the group for more columns."""
    parser.add_argument(
        "data",
        metavar="DATA",
        help=(
            "a CSV file with a header row, in UTF-8 or in UTF-16 with its byte-order mark "
            "(comma-separated; tab-separated, with no quoting, when named .tsv)"
        ),
    )
    data = parser.add_argument_group("the data: columns of DATA, named by its header")
    data.add_argument("--text-col", required=True, metavar="COLUMN", help="the texts (required)")
    return data


def add_device(group: Any, also: str = "") -> None:
    """``--device`` (its form checked by :func:`device`; the hardware after every other check)."""
    group.add_argument(
        "--device",
        type=device,
        default="auto",
        help="auto (default: CUDA, then MPS, then the CPU), cpu, cuda, cuda:N or mps" + also,
    )


def add_trust_remote_code(group: Any) -> None:
    """``--trust-remote-code``: ``trust_remote_code=True``, to run a model's own Python code."""
    group.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="run the Python code that the model's own files hold (the auto_map of its "
        "config.json: nomic-embed, jina-embeddings, gte-*-v1.5); it runs on this machine, so "
        "only for a model you trust (default: not run; a model that needs it is refused)",
    )


def add_no_progress(group: Any) -> None:
    """``--no-progress``: ``progress=False`` everywhere (default ``None``: bars on a terminal)."""
    group.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bars (default: on stderr when it is a terminal)",
    )


def progress_setting(args: Any) -> bool | None:
    """The ``progress`` that ``--no-progress`` asks for: ``False``, else ``None`` (the rule)."""
    return False if args.no_progress else None


def add_max_length(group: Any, default: int | None = None, what: str = "texts") -> None:
    """``--max-length``: the transformer's truncation, in tokens (the embedder's default,
    :data:`EMBEDDER_MAX_LENGTH`, when not given)."""
    group.add_argument(
        "--max-length",
        type=int_at_least(1, "a positive int (a number of tokens)"),
        default=default,
        metavar="TOKENS",
        help=f"{what} are truncated to this many tokens (default: "
        + (f"{default})" if default else f"a saved skmrl folder's, else {EMBEDDER_MAX_LENGTH})"),
    )
