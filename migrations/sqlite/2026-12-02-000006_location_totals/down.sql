DROP TABLE location_totals;
