#!/usr/bin/env python3
"""The docs test: in README.md and every docs/**/*.md,
- every relative link and image resolves (a file or folder of the repository; an #anchor names a
  heading of its page),
- every `ijepa ...` and `ijepa-workbench ...` command line in a sh/bash/console code block parses
  against the program's options: the program runs with IJEPA_PARSE_ONLY=1, which parses and checks
  the subcommand, its flags and their ranges, and runs nothing (so CHECKPOINT needs not exist).
Synopses with [optional] parts belong in ```text blocks, which are not run.

  check_docs.py --ijepa BIN [--workbench BIN] [ROOT]
"""
import argparse
import glob
import os
import re
import shlex
import subprocess
import sys

LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HTML_SRC = re.compile(r"<(?:img|a)\s[^>]*(?:src|href)=\"([^\"]+)\"")
FENCE = re.compile(r"^\s*```(\w*)")
RUN_LANGUAGES = {"sh", "bash", "console", "shell"}
PROGRAMS = ("ijepa", "ijepa-workbench")
SEPARATORS = {"|", "||", "&&", ";", "&"}


def anchor(heading):
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        found, counts, fenced = set(), {}, False
        for line in open(path, encoding="utf-8"):
            if FENCE.match(line):
                fenced = not fenced
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m and not fenced:
                a = anchor(re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1)))
                n = counts.get(a, 0)
                counts[a] = n + 1
                found.add(a if n == 0 else f"{a}-{n}")
        cache[path] = found
    return cache[path]


def check_links(root, path, text):
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        for target in LINK.findall(line) + HTML_SRC.findall(line):
            if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
                continue
            file, _, frag = target.partition("#")
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
            if not os.path.exists(resolved):
                problems.append(f"{os.path.relpath(path, root)}:{number}: link to a missing file: {target}")
            elif frag and resolved.endswith(".md") and frag not in anchors(resolved):
                problems.append(f"{os.path.relpath(path, root)}:{number}: no heading for #{frag} in {file or 'this page'}")
    return problems


def command_lines(text):
    """(line number, [words]) of each program invocation in a runnable code block."""
    language, pending, start = None, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        fence = FENCE.match(line)
        if fence:
            language = None if language is not None else fence.group(1)
            continue
        if language not in RUN_LANGUAGES:
            continue
        if not pending:
            start = number
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        command, pending = pending.strip(), ""
        command = re.sub(r"^\$\s+", "", command)
        try:
            words = shlex.split(command, comments=True)
        except ValueError as e:
            yield start, None, f"{command}: {e}"
            continue
        segment = []
        for word in words + [";"]:
            if word in SEPARATORS:
                if segment:
                    yield start, segment, command
                segment = []
            else:
                segment.append(word)


def invocation(words):
    """The program and its arguments in a shell segment ('VAR=x ijepa ...', 'build/.../ijepa ...'), or None."""
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
        words = words[1:]
    if words and words[0] in ("sudo", "time", "xvfb-run", "exec", "nice"):
        words = words[1:]
    if not words or os.path.basename(words[0]) not in PROGRAMS:
        return None
    args, skip = [], False
    for word in words[1:]:  # drop redirections: > f, 2>&1, >> f
        if skip:
            skip = False
        elif re.match(r"^\d?>>?&?\d*$", word) or word == "<":
            skip = not re.search(r"&\d$", word)
        elif re.match(r"^\d?>", word):
            continue
        else:
            args.append(word)
    return os.path.basename(words[0]), args


def check_commands(root, path, text, binaries):
    problems, count = [], 0
    for number, words, command in command_lines(text):
        where = f"{os.path.relpath(path, root)}:{number}"
        if words is None:
            problems.append(f"{where}: cannot split: {command}")
            continue
        call = invocation(words)
        if call is None:
            continue
        program, args = call
        if program not in binaries:
            continue
        count += 1
        done = subprocess.run([binaries[program], *args], cwd=root, capture_output=True, text=True,
                              env=dict(os.environ, IJEPA_PARSE_ONLY="1", QT_QPA_PLATFORM="offscreen"))
        if done.returncode != 0:
            message = (done.stderr or done.stdout).strip().splitlines()
            problems.append(f"{where}: `{program} {' '.join(args)}` does not parse: {message[0] if message else done.returncode}")
    return problems, count


def main():
    parser = argparse.ArgumentParser(description="Checks the links, images and command lines of the docs.")
    parser.add_argument("--ijepa", required=True)
    parser.add_argument("--workbench")
    parser.add_argument("root", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    binaries = {"ijepa": os.path.abspath(args.ijepa)}
    if args.workbench:
        binaries["ijepa-workbench"] = os.path.abspath(args.workbench)
    pages = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True))
    problems, commands = [], 0
    for page in pages:
        text = open(page, encoding="utf-8").read()
        problems += check_links(root, page, text)
        found, n = check_commands(root, page, text, binaries)
        problems += found
        commands += n
    for p in problems:
        print(p)
    print(f"check_docs: {len(pages)} pages, {commands} command lines parsed, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
