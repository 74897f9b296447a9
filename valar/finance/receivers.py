"""Finance receivers: an attachment's file goes when its row goes (``core.files``)."""

from valar.core.files import delete_stored_files
from valar.finance.models import Attachment

delete_stored_files(Attachment)
