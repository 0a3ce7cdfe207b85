-- The invite a guest's invite was made within (its code's hash; NULL for one made by a
-- token not redeemed from an invite): revoking that one ends this one's access too.
ALTER TABLE invites ADD COLUMN parent TEXT;
