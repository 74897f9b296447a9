"""CRM receivers: a default pipeline for every new organization; re-scoring on new weights."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from valar.crm import services
from valar.organizations.models import Organization
from valar.organizations.signals import organization_settings_changed


@receiver(post_save, sender=Organization)
def give_new_organizations_a_pipeline(sender, instance, created, raw=False, **kwargs) -> None:
    """Every organization starts with the default sales pipeline."""
    if created and not raw:
        services.pipeline_create_default(organization=instance, actor=instance.created_by)


@receiver(organization_settings_changed)
def rescore_leads(sender, organization, changed, **kwargs) -> None:
    """New lead-scoring weights re-score the organization's open leads in one UPDATE."""
    if "lead_scoring_weights" in changed:
        services.leads_rescore(organization=organization)
