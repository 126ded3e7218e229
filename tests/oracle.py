"""What the server must echo, known without coio: a literal table and a one-shot reference.

``CASES`` pairs bytes sent with the exact bytes echoed, every one written out by hand as
hex from Unicode's UnicodeData.txt and SpecialCasing.txt (full uppercasing, no language
rules) and never computed, so a bug in ``coio.protocol`` cannot also sit in its expectation.
Invalid and truncated UTF-8 is echoed unchanged byte for byte; a character cut at end of
stream is flushed unchanged.

``one_shot_upper`` is the whole specification applied to a whole stream at once, for
random payloads no table can list. The server's transform is incremental (a streaming
decoder, an ASCII fast path, bytes held between reads, a flush at end of stream), so
comparing it with this over random chunkings checks a different computation.
"""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    name: str
    sent: bytes
    echoed: bytes


CASES = [
    # ASCII: only a-z change.
    Case("empty", b"", b""),
    Case("ascii lowercase", b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    Case(
        "ascii upper, digits, punctuation",
        b"ABCXYZ 0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        b"ABCXYZ 0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    ),
    Case("ascii sentence", b"hello, World 42", b"HELLO, WORLD 42"),
    Case(
        "control bytes",
        b"\x00\x01\x07\x08\t\x0b\x0c\x0e\x1b\x1f\x7f",
        b"\x00\x01\x07\x08\t\x0b\x0c\x0e\x1b\x1f\x7f",
    ),
    Case("nul inside text", b"nul\x00byte", b"NUL\x00BYTE"),
    Case("crlf", b"line\r\n", b"LINE\r\n"),
    Case("newlines", b"a\nb\n\n", b"A\nB\n\n"),
    # Latin, including SpecialCasing.txt's one-to-many and length-changing mappings.
    Case("strasse", b"stra\xc3\x9fe", b"STRASSE"),  # ß -> SS
    Case("sharp s alone", b"\xc3\x9f", b"SS"),
    Case("capital sharp s unchanged", b"\xe1\xba\x9e", b"\xe1\xba\x9e"),  # ẞ
    Case("e acute", b"\xc3\xa9", b"\xc3\x89"),  # é -> É
    Case("gruesse", b"gr\xc3\xbc\xc3\x9fe", b"GR\xc3\x9cSSE"),  # grüße -> GRÜSSE
    Case("y diaeresis", b"\xc3\xbf", b"\xc5\xb8"),  # ÿ -> Ÿ (U+0178)
    Case("micro sign", b"\xc2\xb5", b"\xce\x9c"),  # µ -> Greek capital mu
    Case("dotless i", b"\xc4\xb1", b"I"),  # U+0131 -> I: 2 bytes become 1
    Case("dotted capital i unchanged", b"\xc4\xb0", b"\xc4\xb0"),  # İ
    Case("long s", b"\xc5\xbf", b"S"),  # U+017F long s -> S
    Case(
        "n preceded by apostrophe", b"\xc5\x89", b"\xca\xbcN"
    ),  # U+0149 -> U+02BC modifier apostrophe + N
    Case("j with caron", b"\xc7\xb0", b"J\xcc\x8c"),  # ǰ -> J + combining caron
    Case("dz with caron, titlecase", b"\xc7\x85", b"\xc7\x84"),  # ǅ -> Ǆ
    Case("dz with caron, lowercase", b"\xc7\x86", b"\xc7\x84"),  # ǆ -> Ǆ
    Case("lj", b"\xc7\x89", b"\xc7\x87"),  # ǉ -> Ǉ
    Case("dz titlecase", b"\xc7\xb2", b"\xc7\xb1"),  # ǲ -> Ǳ
    Case("a with stroke", b"\xe2\xb1\xa5", b"\xc8\xba"),  # ⱥ -> Ⱥ: 3 bytes become 2
    Case("turned a", b"\xc9\x90", b"\xe2\xb1\xaf"),  # ɐ -> Ɐ: 2 bytes become 3
    # Ligatures.
    Case("ligature ff", b"\xef\xac\x80", b"FF"),
    Case("ligature fi", b"\xef\xac\x81", b"FI"),
    Case("ligature fl", b"\xef\xac\x82", b"FL"),
    Case("ligature ffi", b"\xef\xac\x83", b"FFI"),
    Case("ligature ffl", b"\xef\xac\x84", b"FFL"),
    Case("ligature long st", b"\xef\xac\x85", b"ST"),
    Case("ligature st", b"\xef\xac\x86", b"ST"),
    # Greek.
    Case("iota dialytika tonos", b"\xce\x90", b"\xce\x99\xcc\x88\xcc\x81"),  # ΐ -> Ϊ́
    Case("upsilon dialytika tonos", b"\xce\xb0", b"\xce\xa5\xcc\x88\xcc\x81"),  # ΰ: 2 -> 6
    Case("final sigma", b"\xcf\x82", b"\xce\xa3"),  # U+03C2 -> U+03A3
    Case("sigma", b"\xcf\x83", b"\xce\xa3"),  # U+03C3 -> U+03A3
    Case("greek word", b"\xce\xbf\xce\xb4\xcf\x8c\xcf\x82", b"\xce\x9f\xce\x94\xce\x8c\xce\xa3"),
    Case("alpha ypogegrammeni", b"\xe1\xbe\xb3", b"\xce\x91\xce\x99"),  # U+1FB3 -> U+0391 U+0399
    Case(
        "alpha psili ypogegrammeni", b"\xe1\xbe\x80", b"\xe1\xbc\x88\xce\x99"
    ),  # U+1F80 -> U+1F08 U+0399
    Case("combining ypogegrammeni", b"\xcd\x85", b"\xce\x99"),  # U+0345 -> U+0399
    # Armenian and Cyrillic.
    Case("armenian ech yiwn", b"\xd6\x87", b"\xd4\xb5\xd5\x92"),  # և -> ԵՒ
    Case("armenian men now", b"\xef\xac\x93", b"\xd5\x84\xd5\x86"),  # ﬓ -> ՄՆ
    Case(
        "cyrillic word",
        b"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",  # привет
        b"\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2",  # ПРИВЕТ
    ),
    # Other blocks, and a 4-byte letter with a case.
    Case("fullwidth a", b"\xef\xbd\x81", b"\xef\xbc\xa1"),  # U+FF41 -> U+FF21
    Case("circled a", b"\xe2\x93\x90", b"\xe2\x92\xb6"),  # ⓐ -> Ⓐ
    Case("deseret", b"\xf0\x90\x90\xa8", b"\xf0\x90\x90\x80"),  # U+10428 -> U+10400
    # No case: unchanged.
    Case(
        "cjk",
        b"\xe4\xb8\xad\xe6\x96\x87 \xe6\xbc\xa2\xe5\xad\x97",
        b"\xe4\xb8\xad\xe6\x96\x87 \xe6\xbc\xa2\xe5\xad\x97",
    ),
    Case("kana", b"\xe3\x81\x82", b"\xe3\x81\x82"),  # あ
    Case("arabic-indic digit", b"\xd9\xa3", b"\xd9\xa3"),
    Case("emoji", b"\xf0\x9f\x99\x82", b"\xf0\x9f\x99\x82"),
    Case("replacement char and bom", b"\xef\xbf\xbd\xef\xbb\xbf", b"\xef\xbf\xbd\xef\xbb\xbf"),
    Case("last code point", b"\xf4\x8f\xbf\xbf", b"\xf4\x8f\xbf\xbf"),  # U+10FFFF
    Case(
        "mixed line",
        b"gr\xc3\xbc\xc3\x9fe \xef\xac\x81nal \xc7\x86 \xce\x90 \xe4\xb8\xad \xf0\x9f\x99\x82 7\n",
        b"GR\xc3\x9cSSE FINAL \xc7\x84 \xce\x99\xcc\x88\xcc\x81 \xe4\xb8\xad \xf0\x9f\x99\x82 7\n",
    ),
    # Not UTF-8: every such byte echoed unchanged, and the text around it still uppercased.
    Case(
        "lone continuation bytes",
        b"\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f"
        b"\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f"
        b"\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf"
        b"\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf",
        b"\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f"
        b"\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f"
        b"\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf"
        b"\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf",
    ),
    Case("lone continuation between letters", b"a\x80b\xbfc", b"A\x80B\xbfC"),
    Case("overlong nul", b"\xc0\x80", b"\xc0\x80"),
    Case("overlong slash", b"\xc0\xafx\xc1\xbf", b"\xc0\xafX\xc1\xbf"),
    Case("overlong 3-byte", b"\xe0\x80\xafa", b"\xe0\x80\xafA"),
    Case("overlong 4-byte", b"\xf0\x80\x80\xafa", b"\xf0\x80\x80\xafA"),
    Case("surrogate", b"\xed\xa0\x80", b"\xed\xa0\x80"),  # U+D800 encoded
    Case("low surrogate then letter", b"\xed\xbf\xbfz", b"\xed\xbf\xbfZ"),  # U+DFFF
    Case("cesu-8 pair", b"\xed\xa0\xbd\xed\xb8\x80", b"\xed\xa0\xbd\xed\xb8\x80"),
    Case("ff and fe", b"a\xffb\xfec", b"A\xffB\xfeC"),
    Case(
        "f5 and beyond",
        b"\xf5\x80\x80\x80\xf8\x88\x80\x80\x80\xfc",
        b"\xf5\x80\x80\x80\xf8\x88\x80\x80\x80\xfc",
    ),
    Case("above u+10ffff", b"\xf4\x90\x80\x80x", b"\xf4\x90\x80\x80X"),
    Case("invalid then sharp s", b"\xff\xc3\x9f", b"\xffSS"),
    # Cut characters: at end of stream flushed unchanged; followed by anything else, unchanged
    # too, and what follows is uppercased as usual.
    Case("truncated 2-byte at end", b"\xc3", b"\xc3"),
    Case("truncated 3-byte at end", b"\xe4\xb8", b"\xe4\xb8"),
    Case("truncated 3-byte, lead only", b"\xe4", b"\xe4"),
    Case("truncated 4-byte at end", b"\xf0\x9f\x99", b"\xf0\x9f\x99"),
    Case("truncated 4-byte, two bytes", b"\xf0\x9f", b"\xf0\x9f"),
    Case("text then truncated at end", b"abc\xc3", b"ABC\xc3"),
    Case("sharp s then truncated at end", b"\xc3\x9f\xe4\xb8", b"SS\xe4\xb8"),
    Case("truncated 2-byte then ascii", b"\xc3a", b"\xc3A"),
    Case("truncated 3-byte then ascii", b"\xe4\xb8a", b"\xe4\xb8A"),
    Case("truncated 4-byte then ascii", b"\xf0\x9f\x99a", b"\xf0\x9f\x99A"),
    Case("truncated then sharp s", b"\xc3\xc3\x9f", b"\xc3SS"),
    Case("truncated 3-byte then sharp s", b"\xe4\xb8\xc3\x9f", b"\xe4\xb8SS"),
    Case("truncated 4-byte then iota", b"\xf0\x9f\xce\x90", b"\xf0\x9f\xce\x99\xcc\x88\xcc\x81"),
    Case("truncated then newline", b"\xe4\xb8\n", b"\xe4\xb8\n"),
]


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# The cases that are whole, valid UTF-8 text. Full uppercasing maps each character on its
# own, with no context, so any sequence of these echoes as the sequence of their echoes.
TEXT_CASES = [case for case in CASES if _is_text(case.sent)]


def one_shot_upper(stream: bytes) -> bytes:
    """The echo of a whole stream, in one shot: decode it all (each byte that is not UTF-8
    becomes a lone surrogate), uppercase, encode back (each such surrogate its byte again)."""
    return stream.decode("utf-8", "surrogateescape").upper().encode("utf-8", "surrogateescape")
