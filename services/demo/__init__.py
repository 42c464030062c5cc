"""``make run``: the whole system on one machine, with demo bureaus and demo traffic."""
