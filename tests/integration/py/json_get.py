# json_get.py EXPR - reads JSON on stdin, prints the Python expression EXPR over it (bound to
# `j`): dicts and lists as JSON, anything else as Python prints it. lib.sh's json_get.
import json, sys

j = json.load(sys.stdin)
v = eval(sys.argv[1])
print(json.dumps(v) if isinstance(v, (dict, list)) else v)
