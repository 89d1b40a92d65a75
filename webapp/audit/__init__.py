"""The audit log: every view of a sensitive record and every export leaves an entry."""
