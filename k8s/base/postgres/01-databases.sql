-- Database per service (DESIGN.md §1), on one server. Runs once, on an empty data directory.
CREATE DATABASE orders;
CREATE DATABASE inventory;
CREATE DATABASE notifications;
