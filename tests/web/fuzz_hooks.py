"""What the fuzzer needs to know beyond the schema: how to write a cron expression (the schema's
``format: cron``), which a regular expression cannot say (``61 * * * *`` is five fields too), and
an IANA time zone (``format: iana-time-zone``), which is whatever the system's database holds."""

from __future__ import annotations

from zoneinfo import available_timezones

import schemathesis
from hypothesis import strategies as st

FIELDS = (("*", "*/5", "0", "15", "0-30/10", "5,35"), ("*", "9", "0-23/6", "8-18"),
          ("*", "1", "15", "1-7"), ("*", "1", "6-8", "JAN", "*/3"), ("*", "MON-FRI", "0", "SUN", "1,3,5"))

schemathesis.openapi.format(
    "cron", st.tuples(*(st.sampled_from(f) for f in FIELDS)).map(" ".join))
schemathesis.openapi.format("iana-time-zone", st.sampled_from(sorted(available_timezones())))
