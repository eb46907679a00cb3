DROP TABLE iep_action_items;
DROP TABLE iep_notes;
