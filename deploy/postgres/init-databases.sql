-- The `postgres` profile of docker-compose.yml: one server, one database and one role per app.
-- Run once by the postgres image when its volume is new (/docker-entrypoint-initdb.d).
-- The apps share the server, never a table: each role owns its own database and can reach no other.
-- Demo passwords; change them (and the URLs in docker-compose.yml) for anything real.

CREATE ROLE mockgram LOGIN PASSWORD 'mockgram-db-demo';
CREATE DATABASE mockgram OWNER mockgram;
REVOKE CONNECT ON DATABASE mockgram FROM PUBLIC;

CREATE ROLE awesomeservice LOGIN PASSWORD 'awesomeservice-db-demo';
CREATE DATABASE awesomeservice OWNER awesomeservice;
REVOKE CONNECT ON DATABASE awesomeservice FROM PUBLIC;
