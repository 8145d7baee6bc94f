"""Class mode: a room of students predicting on live traffic, and the concept check before and after."""
