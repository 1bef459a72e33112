"""``python -m agentkanban`` is the ``kanban`` command."""

from .cli import main

main()
