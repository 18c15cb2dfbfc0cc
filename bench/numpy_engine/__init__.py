"""Today's NumPy engine (the first edition), kept only as the reference ``make bench`` and the
bit-for-bit noise test compare the compiled engine with. Nothing in the app imports it."""
