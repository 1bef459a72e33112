"""agentkanban: a durable work board shared by people and AI agent workers."""

__version__ = "0.1.0"
