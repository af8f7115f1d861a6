"""The endpoints of protocol version 1, one module per area; ``api.NAME`` for any of them."""

from counter.wire.api.admin import *  # noqa: F403
from counter.wire.api.audit import *  # noqa: F403
from counter.wire.api.dossier import *  # noqa: F403
from counter.wire.api.duplicates import *  # noqa: F403
from counter.wire.api.front_desk import *  # noqa: F403
from counter.wire.api.outbox import *  # noqa: F403
from counter.wire.api.people import *  # noqa: F403
from counter.wire.api.receipts import *  # noqa: F403
from counter.wire.api.registrations import *  # noqa: F403
from counter.wire.api.session import *  # noqa: F403
from counter.wire.api.statistics import *  # noqa: F403
from counter.wire.api.sync import *  # noqa: F403
from counter.wire.api.families import *  # noqa: F403
from counter.wire.api.visits import *  # noqa: F403
