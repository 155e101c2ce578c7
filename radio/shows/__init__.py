"""Shows: programming, writing and checking the station's programmes."""
