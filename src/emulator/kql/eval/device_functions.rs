//! Defender's built-in functions about devices and addresses, called where a table goes:
//! `AssignedIPAddresses(device [, time])` (the addresses a device had: its IPv4 address and an
//! IPv6 link-local one) and `DeviceFromIP(ip [, time])` (the devices that had an address), both
//! from the emulated tenant's devices, with the columns of the shipped schema.

use super::bind::Binder;
use super::scalar::B;
use super::{Eval, Schema, Table};
use crate::emulator::data::{self, Cell};
use crate::emulator::kql::KqlError;
use crate::emulator::kql::value::{INT, STRING, TIME, V};
use crate::kql::syntax::tree::Expr;

/// Is `name` one of this module's functions?
pub(crate) fn is_device_function(name: &str) -> bool {
    matches!(name, "AssignedIPAddresses" | "DeviceFromIP")
}

impl<'a> Eval<'a> {
    pub(crate) fn device_function(&self, name: &str, args: &'a [Expr]) -> Result<Table, KqlError> {
        let b = Binder::new(self, name);
        let constant = |i: usize| -> Result<Option<V<'static>>, KqlError> {
            match args.get(i).map(|e| b.bind(e, &Vec::new())).transpose()? {
                None => Ok(None),
                Some((B::Const(v), _)) => Ok(Some(v)),
                Some(_) => Err(b.error(format!("the arguments of {name}() must be constants"))),
            }
        };
        if args.is_empty() || args.len() > 2 {
            return Err(b.error(format!("{name}() takes one or two arguments")));
        }
        let key = constant(0)?.map(|v| v.text().into_owned()).unwrap_or_default();
        let at = match constant(1)? {
            Some(V::Time(t)) => t,
            None | Some(V::Null) => self.ctx.now,
            Some(_) => {
                return Err(b.error(format!("{name}()'s second argument must be a datetime")));
            }
        };
        let devices = data::device_addresses_of(self.ctx.tenant);
        let (schema, rows): (Schema, Vec<Vec<Cell>>) = if name == "AssignedIPAddresses" {
            let schema = vec![
                ("Timestamp".to_owned(), TIME),
                ("IPAddress".to_owned(), STRING),
                ("IPType".to_owned(), STRING),
                ("NetworkAdapterType".to_owned(), INT),
                ("ConnectedNetworks".to_owned(), INT),
            ];
            let key = key.to_lowercase();
            let rows = devices
                .iter()
                .filter(|(n, id, _)| {
                    let n = n.to_lowercase();
                    n == key || n.split('.').next() == Some(key.as_str()) || *id == key
                })
                .flat_map(|(_, id, ip)| {
                    // The IPv6 link-local address from the device id, as adapters derive one.
                    let v6 =
                        format!("fe80::{}:{}", &id[..4.min(id.len())], &id[4..8.min(id.len())]);
                    [
                        vec![
                            Cell::Time(at),
                            Cell::Str((*ip).to_owned()),
                            Cell::Str("Private".into()),
                            Cell::Int(6),
                            Cell::Int(1),
                        ],
                        vec![
                            Cell::Time(at),
                            Cell::Str(v6),
                            Cell::Str("LinkLocal".into()),
                            Cell::Int(6),
                            Cell::Int(1),
                        ],
                    ]
                })
                .collect();
            (schema, rows)
        } else {
            let schema = vec![("IP".to_owned(), STRING), ("DeviceId".to_owned(), STRING)];
            let rows = devices
                .iter()
                .filter(|(_, _, ip)| *ip == key.trim())
                .map(|(_, id, ip)| vec![Cell::Str((*ip).to_owned()), Cell::Str((*id).to_owned())])
                .collect();
            (schema, rows)
        };
        Ok(Table { schema, rows: Box::new(rows.into_iter()) })
    }
}
