-- redeem_scan, cheaper per scan (issue 16) with the same answers and the same guarantees:
-- * the device is read here (revoked, venue, manual entry) instead of in a round trip of its own before
--   the scan: the service maps a device key to its device id once (that mapping never changes), and
--   this statement is where a revocation or a manual-entry switch takes effect, at once. A revoked (or
--   unknown) device gets {unauthorized: true} and nothing is written.
-- * the nonce is claimed with its answer in one insert, after the decision and before any other write,
--   instead of an insert at the start and an update at the end. A concurrent scan with the same nonce
--   still waits on the nonce's unique key until the first one commits, then replays its answer (or gets
--   IDEMPOTENCY_KEY_REUSED), and has written nothing else.
-- * the projection check and the ticket's row lock are one lookup.
-- Returns {status, body, outcome, replayed, emitted}, {need_ticket: true} or {unauthorized: true}.
DROP FUNCTION IF EXISTS "redemption"."redeem_scan"(uuid, text, text, text, text, boolean, boolean, text, text,
	integer, boolean, text, text, boolean, jsonb, jsonb);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "redemption"."redeem_scan"(
	p_device_id uuid,
	p_session_code text,
	p_nonce text,
	p_request_hash text,
	p_manual_entry boolean,
	p_invalid_detail text,
	p_ticket_code text,
	p_qr_version integer,
	p_qr_expired boolean,
	p_function_code text,
	p_request_id text,
	p_known boolean,
	p_problems jsonb,
	p_events jsonb
) RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
	v_venue text;
	v_manual_allowed boolean;
	v_manual_refused boolean;
	v_stored redemption.nonces%ROWTYPE;
	v_ticket redemption.tickets%ROWTYPE;
	v_exists boolean := false;
	v_locked boolean := false;
	v_answer jsonb;
	v_scan_code text;
	v_entitlements jsonb;
	v_remaining jsonb;
	v_known jsonb;
	v_prior timestamptz;
	v_current integer;
	v_at text;
	v_left jsonb;
	v_used boolean := false;
	v_accepted boolean := false;
	v_claimed integer;
	v_replayed boolean;
BEGIN
	SELECT venue, manual_entry INTO v_venue, v_manual_allowed
	  FROM redemption.devices WHERE device_id = p_device_id AND revoked_at IS NULL;
	IF NOT FOUND THEN
		RETURN jsonb_build_object('unauthorized', true);
	END IF;
	v_manual_refused := p_manual_entry AND NOT v_manual_allowed;

	-- A retry of a scan that was already answered needs nothing else, not even issuance.
	IF p_nonce IS NOT NULL THEN
		SELECT * INTO v_stored FROM redemption.nonces WHERE device_id = p_device_id AND nonce = p_nonce;
		IF FOUND AND v_stored.status_code IS NOT NULL AND v_stored.request_hash = p_request_hash THEN
			v_answer := jsonb_build_object('status', v_stored.status_code, 'body', v_stored.body,
				'outcome', coalesce(v_stored.body->>'code', 'ACCEPTED'));
			PERFORM redemption.record_scan(p_device_id, v_venue, p_session_code, p_nonce, p_function_code,
				p_manual_entry, v_answer, NULL, true);
			RETURN v_answer || jsonb_build_object('replayed', true, 'emitted', false);
		END IF;
	END IF;

	-- Does the projection hold the ticket? If not (or only PRE_GENERATED), the caller asks issuance first.
	-- Otherwise this is the row lock that serialises every scan of this ticket until commit. (A forged
	-- or mismatched token names no ticket: p_ticket_code is null with p_invalid_detail.)
	IF p_ticket_code IS NOT NULL AND NOT v_manual_refused THEN
		IF p_known IS NULL OR p_known THEN
			SELECT * INTO v_ticket FROM redemption.tickets WHERE ticket_code = p_ticket_code FOR UPDATE;
			v_locked := FOUND;
			IF p_known IS NULL AND (NOT v_locked OR v_ticket.status = 'PRE_GENERATED') THEN
				RETURN jsonb_build_object('need_ticket', true);
			END IF;
		END IF;
		v_exists := coalesce(p_known, true);
	END IF;

	v_scan_code := CASE WHEN v_exists THEN p_ticket_code END;
	<<decide>>
	BEGIN
		IF v_manual_refused THEN
			v_answer := redemption.scan_rejection(p_problems, 'MANUAL_ENTRY_NOT_ALLOWED',
				'This device does not allow typed ticket codes; scan the QR code', p_request_id, '{}');
			EXIT decide;
		END IF;
		IF p_invalid_detail IS NOT NULL THEN
			v_answer := redemption.scan_rejection(p_problems, 'INVALID_QR', p_invalid_detail, p_request_id, '{}');
			EXIT decide;
		END IF;
		IF NOT v_locked THEN
			v_answer := redemption.scan_rejection(p_problems, 'INVALID_QR', 'No ticket has this code', p_request_id, '{}');
			EXIT decide;
		END IF;

		-- The ticket's entitlements in order, with this service's redemption times.
		SELECT coalesce(jsonb_agg(jsonb_build_object('function_code', f.code,
		         'redeemed_at', redemption.iso_ms(r.redeemed_at)) ORDER BY f.pos), '[]'),
		       coalesce(jsonb_agg(f.code ORDER BY f.pos) FILTER (WHERE r.redeemed_at IS NULL), '[]')
		  INTO v_entitlements, v_remaining
		  FROM unnest(v_ticket.function_codes) WITH ORDINALITY AS f(code, pos)
		  LEFT JOIN redemption.redemptions r ON r.ticket_code = v_ticket.ticket_code AND r.function_code = f.code;
		v_known := jsonb_build_object('ticket_code', v_ticket.ticket_code, 'ticket_status', v_ticket.status,
			'remaining', v_remaining);

		IF p_qr_expired THEN
			v_answer := redemption.scan_rejection(p_problems, 'QR_EXPIRED', 'The QR code has expired; show a fresh one',
				p_request_id, v_known);
			EXIT decide;
		END IF;
		IF p_qr_version IS NOT NULL THEN
			SELECT version INTO v_current FROM redemption.qr_versions WHERE ticket_code = v_ticket.ticket_code;
			v_current := coalesce(v_current, 0);
			IF p_qr_version < v_current THEN
				v_answer := redemption.scan_rejection(p_problems, 'QR_SUPERSEDED',
					'A newer QR code was issued for this ticket; show the newest', p_request_id, v_known);
				EXIT decide;
			END IF;
			IF p_qr_version > v_current THEN
				v_answer := redemption.scan_rejection(p_problems, 'INVALID_QR', 'The QR code was not issued here',
					p_request_id, '{}');
				EXIT decide;
			END IF;
		END IF;
		SELECT redeemed_at INTO v_prior FROM redemption.redemptions
		 WHERE ticket_code = v_ticket.ticket_code AND function_code = p_function_code;
		-- USED here means every entitlement carries a local redemption; a USED from issuance without one is
		-- still not redeemable.
		IF v_ticket.status <> 'ACTIVE' AND NOT (v_ticket.status = 'USED' AND v_prior IS NOT NULL) THEN
			v_answer := redemption.scan_rejection(p_problems, 'TICKET_NOT_ACTIVE', 'The ticket is ' || v_ticket.status,
				p_request_id, v_known);
			EXIT decide;
		END IF;
		IF NOT p_function_code = ANY (v_ticket.function_codes) THEN
			v_answer := redemption.scan_rejection(p_problems, 'ENTITLEMENT_NOT_FOUND',
				'The ticket does not include ' || p_function_code, p_request_id, v_known);
			EXIT decide;
		END IF;
		IF v_prior IS NOT NULL THEN
			v_at := redemption.iso_ms(v_prior);
			v_answer := redemption.scan_rejection(p_problems, 'ALREADY_REDEEMED',
				p_function_code || ' was already redeemed at ' || v_at, p_request_id,
				v_known || jsonb_build_object('function_code', p_function_code, 'redeemed_at', v_at));
			EXIT decide;
		END IF;

		-- Accepted: redeemed at the transaction's time, written below once the nonce is claimed.
		v_accepted := true;
		v_at := redemption.iso_ms(now());
		v_left := v_remaining - p_function_code;
		v_used := jsonb_array_length(v_left) = 0;
		v_answer := jsonb_build_object('status', 200, 'outcome', 'ACCEPTED', 'emitted', true,
			'body', jsonb_build_object('result', 'ACCEPTED', 'ticket_code', v_ticket.ticket_code,
				'function_code', p_function_code, 'ticket_status', CASE WHEN v_used THEN 'USED' ELSE 'ACTIVE' END,
				'remaining', v_left, 'redeemed_at', v_at));
	END decide;

	IF p_nonce IS NOT NULL THEN
		-- The claim, with its answer: a concurrent scan with the same nonce waits here until the first one
		-- commits, then replays it. Nothing has been written before this point.
		INSERT INTO redemption.nonces (device_id, nonce, request_hash, status_code, body)
		VALUES (p_device_id, p_nonce, p_request_hash, (v_answer->>'status')::int, v_answer->'body')
		ON CONFLICT DO NOTHING;
		GET DIAGNOSTICS v_claimed = ROW_COUNT;
		IF v_claimed = 0 THEN
			-- Committed rows always carry their answer: it is written in the claiming transaction.
			SELECT * INTO v_stored FROM redemption.nonces WHERE device_id = p_device_id AND nonce = p_nonce;
			v_replayed := coalesce(v_stored.request_hash = p_request_hash, false);
			IF v_replayed THEN
				v_answer := jsonb_build_object('status', v_stored.status_code, 'body', v_stored.body,
					'outcome', coalesce(v_stored.body->>'code', 'ACCEPTED'));
			ELSE
				v_answer := redemption.scan_rejection(p_problems, 'IDEMPOTENCY_KEY_REUSED',
					'This device already used the nonce for a different scan; use a new nonce', p_request_id, '{}');
			END IF;
			PERFORM redemption.record_scan(p_device_id, v_venue, p_session_code, p_nonce, p_function_code,
				p_manual_entry, v_answer, p_ticket_code, v_replayed);
			RETURN v_answer || jsonb_build_object('replayed', v_replayed, 'emitted', false);
		END IF;
	END IF;

	IF v_accepted THEN
		-- No ON CONFLICT: while the row lock is held no other scan can have redeemed this entitlement, and
		-- if one ever had, the unique constraint fails the whole statement rather than accept twice.
		INSERT INTO redemption.redemptions (ticket_code, function_code, redeemed_at, device_id, session_code, nonce)
		VALUES (v_ticket.ticket_code, p_function_code, now(), p_device_id, p_session_code, p_nonce);
		IF v_used THEN
			UPDATE redemption.tickets SET status = 'USED', updated_at = now() WHERE ticket_code = v_ticket.ticket_code;
		END IF;
		PERFORM redemption.append_event(p_events->'ticketRedeemed', jsonb_build_object(
			'ticket_code', v_ticket.ticket_code, 'function_code', p_function_code, 'redeemed_at', v_at));
		IF v_used THEN
			PERFORM redemption.append_event(p_events->'ticketUsed', jsonb_build_object(
				'ticket_code', v_ticket.ticket_code,
				'used_at', v_at,
				'entitlements', (SELECT jsonb_agg(jsonb_build_object('function_code', e->>'function_code',
				   'redeemed_at', coalesce(e->>'redeemed_at', v_at)) ORDER BY n)
				   FROM jsonb_array_elements(v_entitlements) WITH ORDINALITY AS x(e, n))));
		END IF;
	END IF;

	PERFORM redemption.record_scan(p_device_id, v_venue, p_session_code, p_nonce, p_function_code,
		p_manual_entry, v_answer, v_scan_code, false);
	RETURN jsonb_build_object('emitted', false) || v_answer || jsonb_build_object('replayed', false);
END;
$$;
--> statement-breakpoint
-- The helpers below were LANGUAGE sql. PostgreSQL (before 18) inlines a SQL function only when it is a
-- plain expression; any other (an INSERT, or an "immutable" body calling the stable to_char) is parsed
-- and planned again on every call, here several times per scan. plpgsql keeps each statement's plan
-- for the connection's life. Same names, arguments and results.
CREATE OR REPLACE FUNCTION "redemption"."iso_ms"(ts timestamptz) RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
	RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "redemption"."record_scan"(
	p_device_id uuid, p_venue text, p_session_code text, p_nonce text, p_function_code text,
	p_manual_entry boolean, p_answer jsonb, p_ticket_code text, p_replayed boolean
) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
	INSERT INTO redemption.scans
		(device_id, venue, session_code, outcome, http_status, ticket_code, function_code, nonce, replayed, manual_entry)
	VALUES (p_device_id, p_venue, p_session_code, p_answer->>'outcome', (p_answer->>'status')::int,
		coalesce(p_ticket_code, p_answer->'body'->>'ticket_code'), p_function_code, p_nonce, p_replayed, p_manual_entry);
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "redemption"."append_event"(p_event jsonb, p_data jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
	INSERT INTO redemption.outbox (subject, envelope)
	VALUES (p_event->>'subject', jsonb_build_object('id', gen_random_uuid(), 'type', p_event->>'type',
		'occurred_at', redemption.iso_ms(clock_timestamp()), 'data', p_data));
END;
$$;
