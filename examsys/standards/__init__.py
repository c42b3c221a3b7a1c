"""National occupational standards (国家职业标准): editions, levels and the knowledge tree."""
