// Scanner devices: create (key shown once), the manual-entry switch, revoke. Where the server has no
// device list / manual-entry switch (GET and PATCH /api/admin/devices answer 404), the page says so,
// lists the devices created in this session, and leaves the switch disabled instead of failing.
import { useState } from 'preact/hooks';
import { type Api, ApiError, type Device } from '../api.ts';
import { ErrorBox, SecretOnce, Section, usePolling } from '../ui.tsx';

function DeviceRow(props: {
  api: Api;
  device: Device;
  switchable: boolean;
  onChanged: () => void;
  onRevoked: (id: string) => void;
}) {
  const { api, device } = props;
  const [error, setError] = useState<unknown>(null);
  const [manual, setManual] = useState(device.manual_entry ?? true);
  const switchId = `manual-${device.device_id}`;
  return (
    <li class="device" data-testid="device-row" data-device-id={device.device_id}>
      <div>
        <strong>{device.name}</strong> · {device.venue} <code class="id">{device.device_id}</code>
        {device.revoked_at && <span class="badge bad">revoked</span>}
      </div>
      <div class="row wrap">
        <label class="switch" for={switchId}>
          <input
            id={switchId}
            type="checkbox"
            role="switch"
            aria-checked={manual}
            checked={manual}
            disabled={!props.switchable || Boolean(device.revoked_at)}
            onChange={async (e) => {
              const next = e.currentTarget.checked;
              setError(null);
              try {
                await api.setManualEntry(device.device_id, next);
                setManual(next);
                props.onChanged();
              } catch (err) {
                setError(err);
              }
            }}
          />
          Manual entry of ticket codes
        </label>
        {!device.revoked_at && (
          <button
            type="button"
            onClick={async () => {
              if (!confirm(`Revoke ${device.name}? Its key is refused from now on.`)) return;
              setError(null);
              try {
                await api.revokeDevice(device.device_id);
                props.onRevoked(device.device_id);
              } catch (err) {
                setError(err);
              }
            }}
          >
            Revoke
          </button>
        )}
      </div>
      <ErrorBox error={error} />
    </li>
  );
}

export function DevicesPage(props: { api: Api }) {
  const { api } = props;
  const listed = usePolling(async () => {
    try {
      const r = await api.listDevices();
      return { supported: true, devices: r.data };
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405))
        return { supported: false, devices: [] as Device[] };
      throw err;
    }
  }, 0);
  const [sessionDevices, setSessionDevices] = useState<Device[]>([]);
  const [venue, setVenue] = useState('');
  const [name, setName] = useState('');
  const [manual, setManual] = useState(true);
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const supported = listed.data?.supported ?? true;
  const devices = supported ? (listed.data?.devices ?? []) : sessionDevices;
  return (
    <>
      <Section title="New scanner device">
        <form
          class="grid-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            try {
              const d = await api.createDevice(venue.trim(), name.trim(), manual);
              setCreated({ name: d.name, key: d.device_key });
              setSessionDevices((list) => [{ ...d }, ...list]);
              setName('');
              listed.reload();
            } catch (err) {
              setError(err);
            }
          }}
        >
          <div class="field">
            <label for="device-venue">Venue</label>
            <input
              id="device-venue"
              required
              maxLength={200}
              value={venue}
              onInput={(e) => setVenue(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="device-name">Name</label>
            <input
              id="device-name"
              required
              maxLength={200}
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </div>
          <label class="switch" for="device-manual">
            <input
              id="device-manual"
              type="checkbox"
              checked={manual}
              onChange={(e) => setManual(e.currentTarget.checked)}
            />
            Allow manual entry
          </label>
          <button type="submit">Create device</button>
        </form>
        {created && (
          <SecretOnce
            label={`Device key of ${created.name}`}
            value={created.key}
            testid="created-device-key"
            onDone={() => setCreated(null)}
          />
        )}
        <ErrorBox error={error} />
      </Section>
      <Section
        title="Devices"
        actions={
          <button type="button" onClick={listed.reload}>
            Refresh
          </button>
        }
      >
        {!supported && (
          <p class="hint" role="status" data-testid="devices-degraded">
            This server does not list devices or switch manual entry yet (GET/PATCH /api/admin/devices
            answered 404). Devices created in this session are shown; the manual-entry switch is disabled.
          </p>
        )}
        <ErrorBox error={listed.error} />
        <ul class="devices">
          {devices.map((d) => (
            <DeviceRow
              key={d.device_id}
              api={api}
              device={d}
              switchable={supported}
              onChanged={listed.reload}
              onRevoked={(id) => {
                setSessionDevices((list) =>
                  list.map((x) => (x.device_id === id ? { ...x, revoked_at: new Date().toISOString() } : x)),
                );
                listed.reload();
              }}
            />
          ))}
        </ul>
      </Section>
    </>
  );
}
