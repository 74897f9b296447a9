"""Reading the ``uid`` and ``token`` an account e-mail carries (Django's locmem outbox)."""

import re

from django.core import mail


def emailed_token(index: int = -1) -> dict[str, str]:
    """The ``uid`` and ``token`` stated in the e-mail at ``index`` of the outbox (the last)."""
    body = mail.outbox[index].body
    return {
        "uid": re.search(r"(?m)^uid: (\S+)$", body).group(1),
        "token": re.search(r"(?m)^token: (\S+)$", body).group(1),
    }
