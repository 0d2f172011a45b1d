-- The SQLite schema the service made before migrations (Base.metadata.create_all of
-- service/models.py as it was then); a desk upgraded mid-election has a database like this.
CREATE TABLE events (
	seq INTEGER NOT NULL, 
	id VARCHAR(36) NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	severity VARCHAR(16) NOT NULL, 
	site VARCHAR(64), 
	sensor VARCHAR(64), 
	start_us BIGINT NOT NULL, 
	end_us BIGINT, 
	freq_low_hz FLOAT NOT NULL, 
	freq_high_hz FLOAT NOT NULL, 
	closed BOOLEAN NOT NULL, 
	progress_us BIGINT NOT NULL, 
	received_us BIGINT NOT NULL, 
	data TEXT NOT NULL, 
	PRIMARY KEY (seq), 
	UNIQUE (id)
);
CREATE INDEX ix_events_sensor_start ON events (sensor, start_us, id);
CREATE INDEX ix_events_site_start ON events (site, start_us, id);
CREATE INDEX ix_events_kind_start ON events (kind, start_us, id);
CREATE INDEX ix_events_site_kind_start ON events (site, kind, start_us, id);
CREATE INDEX ix_events_start ON events (start_us, id);
CREATE TABLE sensors (
	site VARCHAR(64) NOT NULL, 
	sensor VARCHAR(64) NOT NULL, 
	first_seen_us BIGINT NOT NULL, 
	last_seen_us BIGINT, 
	last_event_us BIGINT, 
	heartbeat TEXT, 
	PRIMARY KEY (site, sensor)
);
CREATE TABLE spectra (
	seq INTEGER NOT NULL, 
	id VARCHAR(36) NOT NULL, 
	site VARCHAR(64) NOT NULL, 
	sensor VARCHAR(64) NOT NULL, 
	band VARCHAR(64) NOT NULL, 
	time_us BIGINT NOT NULL, 
	received_us BIGINT NOT NULL, 
	data TEXT NOT NULL, 
	PRIMARY KEY (seq), 
	UNIQUE (id)
);
CREATE INDEX ix_spectra_received ON spectra (received_us);
CREATE INDEX ix_spectra_sensor_band_time ON spectra (site, sensor, band, time_us);
CREATE TABLE tokens (
	id VARCHAR(16) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	site VARCHAR(64), 
	sensor VARCHAR(64), 
	label VARCHAR(200), 
	created_us BIGINT NOT NULL, 
	revoked_us BIGINT, 
	PRIMARY KEY (id), 
	UNIQUE (token_hash)
);
