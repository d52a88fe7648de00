#!/usr/bin/env python3
"""Read GITHUB_OUTPUT / GITHUB_ENV / GITHUB_STATE files the way the runner does.

A re-implementation, written for our tests, of the GitHub Actions
runner's file command reader (actions/runner, src/Runner.Worker/
FileCommandManager.cs, class EnvFileKeyValuePairs; SetEnvFileCommand and
SetOutputFileCommand both use it). Its rules:

* The whole file is read as text (File.ReadAllText: a byte order mark
  picks UTF-8, UTF-16 or UTF-32, else UTF-8; invalid bytes become
  U+FFFD). A missing file gives no pairs.
* Lines end at "\\n" only (on Windows runners also at "\\r\\n"); a "\\r"
  before the "\\n" stays part of the line on Linux. Empty lines are
  skipped.
* In a line, whichever comes first of "=" and "<<" decides the form:
  - "NAME=VALUE": the name is everything before the first "=", the value
    everything after it. The runner checks the whole line, not the name,
    for emptiness, so "=value" gives the name "" (a runner quirk that is
    kept here).
  - "NAME<<DELIM": name and delimiter are split at the first "<<"; both
    must be non-empty. The value is every following line up to the first
    line exactly equal to DELIM, joined with the newlines between them
    (the newline before DELIM is not part of it). No such line: error. A
    last line without a newline that is not DELIM: error.
  - neither: error.
* Pairs come out in file order; a later pair with the same name wins
  when the runner applies them.
"""

import json
import sys

__all__ = ["GhFileError", "decode", "parse_text", "parse_bytes", "parse_file", "main"]


class GhFileError(Exception):
    """The runner would fail the step: "Unable to process file command"."""


def decode(data):
    """bytes -> str as .NET File.ReadAllText(path) decodes them."""
    if data[:4] == b"\xff\xfe\x00\x00":
        return data[4:].decode("utf-32-le", errors="replace")
    if data[:2] == b"\xff\xfe":
        return data[2:].decode("utf-16-le", errors="replace")
    if data[:2] == b"\xfe\xff":
        return data[2:].decode("utf-16-be", errors="replace")
    if data[:3] == b"\xef\xbb\xbf":
        return data[3:].decode("utf-8", errors="replace")
    if data[:4] == b"\x00\x00\xfe\xff":
        return data[4:].decode("utf-32-be", errors="replace")
    return data.decode("utf-8", errors="replace")


def _read_line(text, index, windows):
    """(line, newline, next_index); line is None at the end of the text.

    newline is "\\n", "\\r\\n" (windows only) or None when the line ran to
    the end of the text without one."""
    if index >= len(text):
        return None, None, index
    lf = text.find("\n", index)
    if lf < 0:
        return text[index:], None, len(text)
    if windows:
        crlf = text.find("\r\n", index)
        if 0 <= crlf < lf:
            return text[index:crlf], "\r\n", crlf + 2
    return text[index:lf], "\n", lf + 1


def parse_text(text, windows=False):
    """The (name, value) pairs of a file command text, in order.

    Raises GhFileError where the runner throws."""
    pairs = []
    index = 0
    line, _, index = _read_line(text, index, windows)
    while line is not None:
        if line != "":
            eq = line.find("=")
            hd = line.find("<<")
            if eq >= 0 and (hd < 0 or eq < hd):
                # The runner tests `line` here, which is never empty at
                # this point: an empty name gets through.
                key, value = line.split("=", 1)
            elif hd >= 0 and (eq < 0 or hd < eq):
                key, delimiter = line.split("<<", 1)
                if key == "" or delimiter == "":
                    raise GhFileError(
                        "Invalid format '%s'. Name must not be empty and "
                        "delimiter must not be empty" % line)
                start = end = index
                temp, newline, index = _read_line(text, index, windows)
                while temp != delimiter:
                    if temp is None:
                        raise GhFileError(
                            "Invalid value. Matching delimiter not found '%s'" % delimiter)
                    if newline is None:
                        raise GhFileError("Invalid value. EOF marker missing new line.")
                    end = index - len(newline)
                    temp, newline, index = _read_line(text, index, windows)
                value = text[start:end] if end > start else ""
            else:
                raise GhFileError("Invalid format '%s'" % line)
            pairs.append((key, value))
        line, _, index = _read_line(text, index, windows)
    return pairs


def parse_bytes(data, windows=False):
    return parse_text(decode(data), windows)


def parse_file(path, windows=False):
    """Pairs of the file at path; [] when it does not exist."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    return parse_bytes(data, windows)


def main(argv):
    """ghfile_parse.py [--windows] FILE: print the pairs as a JSON array."""
    args = [a for a in argv[1:] if a != "--windows"]
    if len(args) != 1:
        sys.stderr.write("usage: ghfile_parse.py [--windows] FILE\n")
        return 2
    try:
        pairs = parse_file(args[0], windows="--windows" in argv[1:])
    except GhFileError as e:
        sys.stderr.write("ghfile_parse: %s\n" % e)
        return 1
    json.dump([list(p) for p in pairs], sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
