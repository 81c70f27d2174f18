import Foundation

/// The reference side of the differential tests, run with .venv-textfsm/bin/python (Google's textfsm).
let referenceScript = #"""
# The reference side of the differential tests: Google's textfsm (and its CliTable) on the jobs the
# Swift test hands over, and inputs generated from the templates' own regexes.
#   ref.py parse JOBS.json    [{"template": PATH, "text": STR}]                  → [{"header", "rows"} | {"error"}]
#   ref.py index JOBS.json    {"dir": DIR, "jobs": [{"platform", "command", "text"}]} → the same, or {"notemplate": true}
#   ref.py regex JOBS.json    [{"pattern": P, "text": STR}]                     → {"groups", "whole"} | {"error"}
#   ref.py generate JOBS.json {"templates": [PATH], "seed": N}                   → [{"text": STR | null, "rules": N, "generated": N}]
import json, random, sys
import re
try:
    from re import _parser as sre_parse, _constants as C
except ImportError:
    import sre_parse, sre_constants as C
import textfsm
from textfsm import clitable

def parse(jobs):
    out = []
    for j in jobs:
        try:
            with open(j["template"]) as f:
                fsm = textfsm.TextFSM(f)
            rows = fsm.ParseText(j["text"])
            out.append({"header": fsm.header, "rows": rows})
        except Exception as e:
            out.append({"error": "%s: %s" % (type(e).__name__, e)})
    return out

def regex(jobs):
    out = []
    for j in jobs:
        try:
            m = re.compile(j["pattern"]).match(j["text"])
            out.append({"groups": list(m.groups()) if m else None, "whole": m.group(0) if m else None})
        except re.error as e:
            out.append({"error": str(e)})
    return out

def index(spec):
    out = []
    for j in spec["jobs"]:
        try:
            t = clitable.CliTable("index", spec["dir"])
            try:
                t.ParseCmd(j["text"], {"Command": j["command"], "Platform": j["platform"]})
            except clitable.CliTableError as e:
                if "No template found" in str(e):
                    out.append({"notemplate": True}); continue
                raise
            attrs = {"Command": j["command"], "Platform": j["platform"]}
            templates = t.index.index[t.index.GetRowMatch(attrs)]["Template"]
            out.append({"header": list(t.header), "rows": [list(r) for r in t], "templates": templates})
        except Exception as e:
            out.append({"error": "%s: %s" % (type(e).__name__, e)})
    return out

WORD = "abcxyz"
def gen(pattern, rnd):
    """A string matching the start of `pattern` (best effort), from its parse tree."""
    groups = {}
    def charset(items, negate):
        for _ in range(40):
            c = rnd.choice("aZ09 :./-_x,(")
            ok = False
            for op, av in items:
                if op is C.LITERAL: ok |= ord(c) == av
                elif op is C.RANGE: ok |= av[0] <= ord(c) <= av[1]
                elif op is C.CATEGORY:
                    ok |= {C.CATEGORY_DIGIT: c.isdigit(), C.CATEGORY_NOT_DIGIT: not c.isdigit(),
                           C.CATEGORY_SPACE: c.isspace(), C.CATEGORY_NOT_SPACE: not c.isspace(),
                           C.CATEGORY_WORD: c.isalnum() or c == "_", C.CATEGORY_NOT_WORD: not (c.isalnum() or c == "_")}.get(av, False)
            if ok != negate: return c
        for op, av in items:
            if not negate and op is C.LITERAL: return chr(av)
            if not negate and op is C.RANGE: return chr(av[0])
        raise ValueError("class")
    def walk(seq):
        s = ""
        for op, av in seq:
            if op is C.LITERAL: s += chr(av)
            elif op is C.NOT_LITERAL: s += "x" if av != ord("x") else "y"
            elif op is C.ANY: s += rnd.choice("x1 ")
            elif op is C.IN:
                neg = bool(av) and av[0][0] is C.NEGATE
                s += charset(av[1:] if neg else av, neg)
            elif op is C.BRANCH: s += walk(rnd.choice(av[1]))
            elif op is C.SUBPATTERN:
                g, _, _, sub = av
                t = walk(sub)
                if g: groups[g] = t
                s += t
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
                lo, hi, sub = av
                n = lo if lo > 0 else rnd.choice([0, 1, 1])
                if hi != C.MAXREPEAT: n = min(max(n, 1 if hi >= 1 and rnd.random() < .5 else n), hi)
                else: n = max(n, rnd.choice([lo, lo + 1, lo + 2]))
                s += "".join(walk(sub) for _ in range(n))
            elif op is getattr(C, "ATOMIC_GROUP", None): s += walk(av)
            elif op is C.GROUPREF: s += groups.get(av, "")
            elif op in (C.AT, C.ASSERT, C.ASSERT_NOT): pass
            elif op is C.CATEGORY:
                s += {C.CATEGORY_DIGIT: "7", C.CATEGORY_SPACE: " ", C.CATEGORY_WORD: "w"}.get(av, "x")
            else: raise ValueError(op)
        return s
    return walk(sre_parse.parse(pattern))

def generate(spec):
    out = []
    for path in spec["templates"]:
        rnd = random.Random("%s%s" % (spec.get("seed", 0), path.rsplit("/", 1)[-1]))
        try:
            with open(path) as f:
                fsm = textfsm.TextFSM(f)
        except Exception:
            out.append({"text": None, "rules": 0, "generated": 0}); continue
        lines, rules, made = [], 0, 0
        for _ in range(2):
            for state in fsm.state_list:
                for rule in fsm.states.get(state, []):
                    if rule.line_op == "Error":
                        continue
                    rules += 1
                    for _ in range(8):
                        try:
                            s = gen(rule.regex, rnd)
                        except Exception:
                            continue
                        if "\n" not in s and "\r" not in s and rule.regex_obj.match(s):
                            lines.append(s); made += 1
                            break
        out.append({"text": "\n".join(lines) + "\n" if lines else None, "rules": rules // 2, "generated": made // 2})
    return out

if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    spec = json.load(open(path))
    res = {"parse": parse, "index": index, "generate": generate, "regex": regex}[mode](spec)
    json.dump(res, sys.stdout)
"""#
