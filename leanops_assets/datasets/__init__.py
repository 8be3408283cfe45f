"""Dataset plugins: one folder per dataset, holding its contract and reference-table contracts."""
