"""Print the demo logins written by `python -m demo` as a small table."""

import json
import sys

for login in json.load(open(sys.argv[1], encoding="utf-8")):
    password = login.get("password") or "-"
    print(
        f"  {login['customer_code']:<8} serial {login['serial_number']:<18} password {password:<16} {login.get('note', '')}"
    )
