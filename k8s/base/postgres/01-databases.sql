-- Database per service, on one server. Runs once, on an empty data directory.
CREATE DATABASE orders;
CREATE DATABASE inventory;
CREATE DATABASE notifications;
