"""A race turned into something to take away: pure functions from a race to text, no Dash.

``exports.pytorch`` writes one racer's run as a plain ``torch.optim`` training loop (it never
runs the code it writes); ``exports.tables`` writes a racer's trajectory as CSV.
"""
