"""Where an inventory finds objects: one module per source, behind :class:`~.base.Source`."""
