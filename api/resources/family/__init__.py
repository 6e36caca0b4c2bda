"""The family view: linked elders, their visits, ratings, notifications; links kept by staff."""
