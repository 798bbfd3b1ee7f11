# help_words.py XLBCTL XLBD XLB_BACKEND - the words the programs' own help lists, one per line.
"""Reads `xlbctl help`, `xlbctl help OBJECT`, `xlbd --help` and `xlb-backend help` and prints
what they name, for test_man.sh (each must be in the manual page) and test_completion.sh (each
must be offered):

  object OBJ                  option -json
  command OBJ CMD             positional OBJ CMD [P...]   (placeholders right after CMD)
  keyword OBJ CMD WORD        (a lowercase word of CMD's usage, or of a { ... } definition
                               of a placeholder the usage names)
  xlbd-option --name          backend-word word

Only the grammar (Usage lines and NAME := { ... } definitions) is read, never the prose.
"""
import re
import subprocess
import sys

xlbctl, xlbd, backend = sys.argv[1:4]
WORD = re.compile(r"^-{0,2}[a-z][a-z0-9-]*$")


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def lower_words(s):
    return [w for w in re.sub(r"[{}\[\]|.]", " ", s).split() if WORD.match(w) and w != "xlbctl"]


def usage_lines(text):
    """Each 'xlbctl ...' usage line joined with its continuation lines."""
    lines, inside = [], False
    for raw in text.splitlines():
        if raw.startswith("Usage: "):
            inside = True
            lines.append(raw[len("Usage: "):].strip())
        elif inside and re.match(r"^ +xlbctl ", raw):
            lines.append(raw.strip())
        elif inside and raw.startswith(" ") and ":=" not in raw:
            lines[-1] += " " + raw.strip()
        else:
            inside = False
    return lines


def definitions(text):
    """NAME := { a | b ... } (over several lines until the closing brace) -> 'a | b ...'."""
    defs = {}
    for m in re.finditer(r"([A-Z][A-Z-]*) := \{((?:[^{}]|\{[^{}]*\})*)\}", text):
        defs.setdefault(m.group(1), m.group(2))
    return defs


top = run(xlbctl, "help")
objects = re.search(r"OBJECT := \{([^}]*)\}", top).group(1).replace("|", " ").split()
for o in objects:
    print("object", o)
opts = re.search(r"OPTIONS := \{([^}]*)\}", top).group(1)
for o in re.sub(r"\[([a-z]+)\]", r"\1", opts).replace("|", " ").split():
    if o.startswith("-"):
        print("option", o)

for obj in objects:
    text = run(xlbctl, "help", obj)
    defs = definitions(text)
    ref = re.search(r"as for `xlbctl ([a-z-]+)`", text)
    if ref:
        for k, v in definitions(run(xlbctl, "help", ref.group(1))).items():
            defs.setdefault(k, v)
    for line in usage_lines(text):
        body = re.sub(r"^xlbctl %s *" % re.escape(obj), "", line)
        if body.startswith("{"):
            head, body = body[1:].split("}", 1)
            cmds = lower_words(head)
        elif re.match(r"^\[ *show", body):
            cmds, body = ["show"], re.sub(r"^\[ *show *(\] *)?", "", body)
        else:
            cmds, body = [body.split()[0]], body[len(body.split()[0]):]
        pos = re.match(r"^\s*((?:[A-Z][A-Z-]* +)*)", body + " ").group(1).split()
        words = set(lower_words(body))
        for name in re.findall(r"[A-Z][A-Z-]*", body):
            if name in defs:
                words.update(lower_words(defs[name]))
        for c in cmds:
            print("command", obj, c)
            print("positional", obj, c, *pos)
            for w in sorted(words - {obj, c}):
                print("keyword", obj, c, w)

for o in sorted(set(re.findall(r"--[a-z][a-z-]*", run(xlbd, "--help")))):
    print("xlbd-option", o)
btext = run(backend, "help")
for w in sorted({w for line in btext.splitlines() if line.startswith(("Usage:", "  "))
                 for w in lower_words(line.replace("xlb-backend", ""))}):
    print("backend-word", w)
