"""One rule kind per module; each finds the relations of its kind a report states."""

from . import breakdown, counts, difference, growth, identity, parallel, rates, repeats, share, table, totals

# Order matters only for de-duplication: the first rule to state a relation keeps it.
RULES = [breakdown, table, parallel, identity, totals, difference, growth, share, rates, counts, repeats]
