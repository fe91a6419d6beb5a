"""ftiscan package."""
