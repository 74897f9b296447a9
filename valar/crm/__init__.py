"""CRM: leads with scoring and conversion, customers, pipelines and deals, vendors."""
