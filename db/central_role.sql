-- central_role.sql - one least-privilege PostgreSQL role per station (db/CENTRAL.md).
--
-- Run it as the owner of the central schema (after `station central init`), once per
-- station, with psql variables for the role's name and password:
--
--   psql "postgresql://flash_admin@central.example/flash?sslmode=verify-full" \
--        -v station_role=station_l1_s3 -v station_password='long random secret' \
--        -f db/central_role.sql
--
-- The role can log in, read every row (audit, export, stats and the retry bin answer
-- across stations), insert and update the rows of the stations it registered itself
-- (row-level security, policies created by `station central init`: a station cannot
-- touch another station's rows), and nothing else: no DELETE, no TRUNCATE, no DDL (no
-- CREATE on the schema or the database), no role or database creation.
\set ON_ERROR_STOP on

CREATE ROLE :"station_role" LOGIN PASSWORD :'station_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT
    CONNECTION LIMIT 8;
-- flash_station (made by `station central init`) carries the table privileges and is
-- what the row-level policies name.
GRANT flash_station TO :"station_role";
GRANT CONNECT ON DATABASE :"DBNAME" TO :"station_role";
GRANT USAGE ON SCHEMA public TO :"station_role";
-- PostgreSQL 15 no longer lets PUBLIC create in the public schema; older servers do.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE CREATE ON DATABASE :"DBNAME" FROM PUBLIC;
-- Bounded statements, whatever the client asks for.
ALTER ROLE :"station_role" SET statement_timeout = '60s';
