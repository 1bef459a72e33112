"""Pure domain: statuses, the transition table, frozen records, event kinds. No I/O."""
