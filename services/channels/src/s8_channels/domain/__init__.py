"""Pure logic: the platforms' payloads and signatures, mail parsing, delivery decisions."""
