-- A scan decided in one statement: nonce claim, ticket lock, entitlement checks, redemption row, USED
-- transition, outbox events, scan record and the nonce's stored answer, in the function's own
-- transaction (one round trip from the service instead of about twelve). The service builds nothing
-- but the inputs: the problem documents' type, title and status per code, and the event subjects, are
-- passed in from the contract (`p_problems`, `p_events`), so they have one source.
--
-- Returns {status, body, outcome, replayed, emitted}, or {need_ticket: true} (nothing written) when
-- the projection lacks the ticket or still has it PRE_GENERATED and the caller has not asked issuance
-- yet (`p_known` null): the caller asks issuance, then calls again with `p_known` = whether it exists.
CREATE OR REPLACE FUNCTION "redemption"."redeem_scan"(
	p_device_id uuid,
	p_venue text,
	p_session_code text,
	p_nonce text,
	p_request_hash text,
	p_manual_entry boolean,
	p_manual_refused boolean,
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
	v_stored redemption.nonces%ROWTYPE;
	v_ticket redemption.tickets%ROWTYPE;
	v_exists boolean := false;
	v_status text;
	v_answer jsonb;
	v_replayed boolean := false;
	v_scan_code text;
	v_entitlements jsonb;
	v_remaining jsonb;
	v_known jsonb;
	v_prior timestamptz;
	v_current integer;
	v_redeemed_at timestamptz;
	v_at text;
	v_left jsonb;
	v_used boolean;
	v_body jsonb;
BEGIN
	-- A retry of a scan that was already answered needs nothing else, not even issuance.
	IF p_nonce IS NOT NULL THEN
		SELECT * INTO v_stored FROM redemption.nonces WHERE device_id = p_device_id AND nonce = p_nonce;
		IF FOUND AND v_stored.status_code IS NOT NULL AND v_stored.request_hash = p_request_hash THEN
			v_answer := jsonb_build_object('status', v_stored.status_code, 'body', v_stored.body,
				'outcome', coalesce(v_stored.body->>'code', 'ACCEPTED'));
			PERFORM redemption.record_scan(p_device_id, p_venue, p_session_code, p_nonce, p_function_code,
				p_manual_entry, v_answer, NULL, true);
			RETURN v_answer || jsonb_build_object('replayed', true, 'emitted', false);
		END IF;
	END IF;

	-- Does the projection hold the ticket? If not (or only PRE_GENERATED), the caller asks issuance first.
	IF p_ticket_code IS NOT NULL AND NOT p_manual_refused THEN
		IF p_known IS NULL THEN
			SELECT status INTO v_status FROM redemption.tickets WHERE ticket_code = p_ticket_code;
			IF NOT FOUND OR v_status = 'PRE_GENERATED' THEN
				RETURN jsonb_build_object('need_ticket', true);
			END IF;
			v_exists := true;
		ELSE
			v_exists := p_known;
		END IF;
	END IF;

	IF p_nonce IS NOT NULL THEN
		-- A concurrent scan with the same nonce waits here until the first one commits, then replays it.
		INSERT INTO redemption.nonces (device_id, nonce, request_hash) VALUES (p_device_id, p_nonce, p_request_hash)
		ON CONFLICT DO NOTHING;
		IF NOT FOUND THEN
			-- Committed rows always carry their answer: it is written in the claiming transaction.
			SELECT * INTO v_stored FROM redemption.nonces WHERE device_id = p_device_id AND nonce = p_nonce;
			IF v_stored.request_hash = p_request_hash THEN
				v_answer := jsonb_build_object('status', v_stored.status_code, 'body', v_stored.body,
					'outcome', coalesce(v_stored.body->>'code', 'ACCEPTED'));
				v_replayed := true;
			ELSE
				v_answer := redemption.scan_rejection(p_problems, 'IDEMPOTENCY_KEY_REUSED',
					'This device already used the nonce for a different scan; use a new nonce', p_request_id, '{}');
			END IF;
			PERFORM redemption.record_scan(p_device_id, p_venue, p_session_code, p_nonce, p_function_code,
				p_manual_entry, v_answer, p_ticket_code, v_replayed);
			RETURN v_answer || jsonb_build_object('replayed', v_replayed, 'emitted', false);
		END IF;
	END IF;

	v_scan_code := CASE WHEN v_exists THEN p_ticket_code END;
	<<decide>>
	BEGIN
		IF p_manual_refused THEN
			v_answer := redemption.scan_rejection(p_problems, 'MANUAL_ENTRY_NOT_ALLOWED',
				'This device does not allow typed ticket codes; scan the QR code', p_request_id, '{}');
			EXIT decide;
		END IF;
		IF p_invalid_detail IS NOT NULL THEN
			v_answer := redemption.scan_rejection(p_problems, 'INVALID_QR', p_invalid_detail, p_request_id, '{}');
			EXIT decide;
		END IF;
		IF v_exists THEN
			-- The row lock that serialises every scan of this ticket until commit.
			SELECT * INTO v_ticket FROM redemption.tickets WHERE ticket_code = p_ticket_code FOR UPDATE;
			v_exists := FOUND;
		END IF;
		IF NOT v_exists THEN
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

		IF v_prior IS NULL THEN
			INSERT INTO redemption.redemptions (ticket_code, function_code, redeemed_at, device_id, session_code, nonce)
			VALUES (v_ticket.ticket_code, p_function_code, now(), p_device_id, p_session_code, p_nonce)
			ON CONFLICT (ticket_code, function_code) DO NOTHING
			RETURNING redeemed_at INTO v_redeemed_at;
			IF v_redeemed_at IS NULL THEN
				-- Unreachable while the row lock is held; the unique constraint is the backstop.
				SELECT redeemed_at INTO v_prior FROM redemption.redemptions
				 WHERE ticket_code = v_ticket.ticket_code AND function_code = p_function_code;
			END IF;
		END IF;
		IF v_prior IS NOT NULL THEN
			v_at := redemption.iso_ms(v_prior);
			v_answer := redemption.scan_rejection(p_problems, 'ALREADY_REDEEMED',
				p_function_code || ' was already redeemed at ' || v_at, p_request_id,
				v_known || jsonb_build_object('function_code', p_function_code, 'redeemed_at', v_at));
			EXIT decide;
		END IF;

		v_at := redemption.iso_ms(v_redeemed_at);
		v_left := v_remaining - p_function_code;
		v_used := jsonb_array_length(v_left) = 0;
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
		v_body := jsonb_build_object('result', 'ACCEPTED', 'ticket_code', v_ticket.ticket_code,
			'function_code', p_function_code, 'ticket_status', CASE WHEN v_used THEN 'USED' ELSE 'ACTIVE' END,
			'remaining', v_left, 'redeemed_at', v_at);
		v_answer := jsonb_build_object('status', 200, 'body', v_body, 'outcome', 'ACCEPTED', 'emitted', true);
	END decide;

	PERFORM redemption.record_scan(p_device_id, p_venue, p_session_code, p_nonce, p_function_code,
		p_manual_entry, v_answer, v_scan_code, false);
	IF p_nonce IS NOT NULL THEN
		UPDATE redemption.nonces SET status_code = (v_answer->>'status')::int, body = v_answer->'body'
		 WHERE device_id = p_device_id AND nonce = p_nonce;
	END IF;
	RETURN jsonb_build_object('emitted', false) || v_answer || jsonb_build_object('replayed', false);
END;
$$;
--> statement-breakpoint
-- Milliseconds, UTC, with a Z: exactly what JavaScript's Date#toISOString gives for the same instant
-- (node-postgres also truncates a timestamp to milliseconds).
CREATE OR REPLACE FUNCTION "redemption"."iso_ms"(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
--> statement-breakpoint
-- A rejection as the service answers it: the problem document of `code` (type, title and status from
-- the contract) with the detail, the request id when there is one, result REJECTED and the extensions.
CREATE OR REPLACE FUNCTION "redemption"."scan_rejection"(
	p_problems jsonb, p_code text, p_detail text, p_request_id text, p_extensions jsonb
) RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
	SELECT jsonb_build_object(
		'status', (p_problems->p_code->>'status')::int,
		'outcome', p_code,
		'emitted', false,
		'body', (p_problems->p_code) || jsonb_build_object('code', p_code)
			|| CASE WHEN coalesce(p_detail, '') <> '' THEN jsonb_build_object('detail', p_detail) ELSE '{}' END
			|| CASE WHEN coalesce(p_request_id, '') <> '' THEN jsonb_build_object('request_id', p_request_id) ELSE '{}' END
			|| jsonb_build_object('result', 'REJECTED') || p_extensions)
$$;
--> statement-breakpoint
-- One row of the scan audit: the ticket code given, or the one the answer names.
CREATE OR REPLACE FUNCTION "redemption"."record_scan"(
	p_device_id uuid, p_venue text, p_session_code text, p_nonce text, p_function_code text,
	p_manual_entry boolean, p_answer jsonb, p_ticket_code text, p_replayed boolean
) RETURNS void
LANGUAGE sql VOLATILE
AS $$
	INSERT INTO redemption.scans
		(device_id, venue, session_code, outcome, http_status, ticket_code, function_code, nonce, replayed, manual_entry)
	VALUES (p_device_id, p_venue, p_session_code, p_answer->>'outcome', (p_answer->>'status')::int,
		coalesce(p_ticket_code, p_answer->'body'->>'ticket_code'), p_function_code, p_nonce, p_replayed, p_manual_entry)
$$;
--> statement-breakpoint
-- An event into the outbox, enveloped as appendEvent does: `p_event` is {subject, type}.
CREATE OR REPLACE FUNCTION "redemption"."append_event"(p_event jsonb, p_data jsonb) RETURNS void
LANGUAGE sql VOLATILE
AS $$
	INSERT INTO redemption.outbox (subject, envelope)
	VALUES (p_event->>'subject', jsonb_build_object('id', gen_random_uuid(), 'type', p_event->>'type',
		'occurred_at', redemption.iso_ms(clock_timestamp()), 'data', p_data))
$$;
