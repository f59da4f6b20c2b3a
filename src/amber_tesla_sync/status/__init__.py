"""The `status` command's logic: gather what the owner sees, and explain the plan."""
