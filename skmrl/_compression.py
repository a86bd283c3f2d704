"""What compressed file a file is, by its first bytes (standard library only).

skmrl reads plain text, and a compressed file read as text fails as "not UTF-8" with the wrong
advice: the CLI's input files (:mod:`skmrl.cli._file_text`) and word-vector files
(:mod:`skmrl._word_vectors`) are told apart here, each reader saying what to do in its own words.
"""

from __future__ import annotations

__all__ = ["compression_name", "compression_of"]

#: Leading bytes of compressed files and archives, and the kind each starts.
_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
    b"\x28\xb5\x2f\xfd": "zstd",
}
#: What follows bzip2's "BZh" and its block size: the mark of its first block, or of the end of
#: an empty stream.
_BZIP2_MARKS = (b"1AY&SY", b"\x17rE8P\x90")


def compression_of(head: bytes) -> str | None:
    """The kind of compressed file (``"gzip"``, ``"bzip2"``, ``"xz"``, ``"zip"``, ``"zstd"``)
    whose first bytes are ``head`` (10 or more), else None. bzip2's ``BZh`` is also text, so it
    counts only followed by a block size digit and a block's mark.

    Examples
    --------
    >>> import gzip
    >>> from skmrl._compression import compression_of
    >>> compression_of(gzip.compress(b"label,text")), compression_of(b"BZh, a text")
    ('gzip', None)
    """
    for magic, kind in _MAGIC.items():
        if head.startswith(magic) and (
            kind != "bzip2" or (head[3:4] in b"123456789" and head[4:10] in _BZIP2_MARKS)
        ):
            return kind
    return None


def compression_name(kind: str) -> str:
    """What a file compressed as ``kind`` (a value of :func:`compression_of`) is, said after
    "is": ``"gzip-compressed"``, ``"a zip archive"``.

    Examples
    --------
    >>> from skmrl._compression import compression_name
    >>> compression_name("xz"), compression_name("zip")
    ('xz-compressed', 'a zip archive')
    """
    return "a zip archive" if kind == "zip" else f"{kind}-compressed"
