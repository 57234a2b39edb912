"""Who may see what: roles, permissions, users, grants, break-glass access to raw footage, alarms."""
