"""``kanban runner``: a process on any machine that asks the board server for work over HTTP and
runs it as local worker processes.

A client only: it never opens the board's database, and imports neither the store nor the
services (an import-linter contract holds it to that). Modules:

- :mod:`.settings`: the runner's own file (``runner.yaml``): its profiles and where it works;
- :mod:`.client`: the runner protocol's HTTP calls and the errors they answer with;
- :mod:`.worker`: one worker process: its workspace, argv, environment, log file and signals;
- :mod:`.loop`: registration, the long-poll claim loop, leases, log shipping, exit reports.
"""
