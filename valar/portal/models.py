"""The portal keeps no table of its own: it reads documents and payments of the client's
customer (``Membership.customer``) from ``finance``, and chats from ``support``."""
