"""UN/EDIFACT PAXLST passenger and crew lists (adapter ``paxlst``)."""
