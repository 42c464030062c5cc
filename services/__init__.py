"""xiecha's services: the platform hub, the regional desks, and their shared kit."""
