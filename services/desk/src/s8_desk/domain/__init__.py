"""The desk's pure read-model logic: cards, clocks, notices, search terms."""
