"""Organizations: tenants, memberships with roles and module grants, and teams."""
